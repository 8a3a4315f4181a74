"""What each command does once the command line has parsed its options: one function per
command, from resolved ``Settings`` to an exit code (cli.py only declares the options)."""
