from tcmu_switch_cli.naming import device_object_path, escape_path_element


# The same examples as tests/unit/device_object_test.cpp: both sides must agree.
def test_letters_and_digits_stay():
    assert escape_path_element('lun0') == 'lun0'


def test_every_other_byte_is_escaped_including_the_escape_character():
    assert escape_path_element('lun-0.a_b') == 'lun_2d0_2ea_5fb'


def test_empty_name_is_an_underscore():
    assert escape_path_element('') == '_'


def test_object_path_is_under_the_handlers_object():
    assert device_object_path('db-1') == '/org/kernel/TCMUService1/switch/db_2d1'


def test_non_ascii_is_escaped_byte_by_byte():
    assert escape_path_element('\u00e9') == '_c3_a9'
