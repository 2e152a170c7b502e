"""The one exception for input a user can fix (a missing folder, a malformed notebook, an empty
submitted/): its message says what to fix, and the `momlab` command prints it on one line and exits 2."""


class UserError(Exception):
    pass
