'''
Prints a help2man include section with the commands targetcli-switch adds to
every /backstores/user:switch LUN, taken from their own docstrings (the text
`help table` shows inside targetcli), so the man page cannot drift from them.
'''
import inspect

from tcmu_switch_cli.targetcli_ui import UISwitchStorageObject

print('[SWITCH LUN COMMANDS]')
print('Every storage object under /backstores/user:switch also answers:')
# Only the commands the class itself defines: targetcli's own man page has the rest.
for name in sorted(n for n in vars(UISwitchStorageObject) if n.startswith('ui_command_')):
    method = vars(UISwitchStorageObject)[name]
    print('.TP')
    print('.B %s' % name[len('ui_command_'):])
    print('.nf')  # the docstrings line up their columns with spaces
    for line in inspect.getdoc(method).splitlines():
        print(line.replace('\\', '\\\\'))
    print('.fi')
