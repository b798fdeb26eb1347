from tcmu_switch_cli import heatmap


def test_small_maps_keep_one_cell_per_region():
    assert heatmap.downsample(bytes([0, 1, 2]), 10) == [0, 1, 2]


def test_a_cell_takes_the_path_most_of_its_regions_use():
    assert heatmap.downsample(bytes([0, 1, 1, 2, 2, 0]), 2) == [1, 2]


def test_ties_go_to_the_lower_path():
    assert heatmap.downsample(bytes([3, 1, 1, 3]), 1) == [1]


def test_grid_is_near_square_and_holds_every_cell():
    assert heatmap.grid_shape(4096) == (64, 64)
    cols, rows = heatmap.grid_shape(10)
    assert cols * rows >= 10 and cols == 4


def test_matrix_pads_the_last_row():
    assert heatmap.matrix_text([0, 1, 2, 0, 1], 3) == '0 1 2\n0 1 NaN\n'


def test_one_palette_entry_per_path():
    assert heatmap.palette(3) == '0 "#1b9e77", 1 "#d95f02", 2 "#7570b3"'
    assert heatmap.palette(9).endswith('8 "#1b9e77"')


def test_io_buckets_beyond_the_lun_are_dropped():
    assert heatmap.io_rows(2, [5, 6, 7, 0], 9) == [(0, 5), (4, 6), (8, 7)]
