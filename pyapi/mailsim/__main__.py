"""python -m mailsim ...: the command line (see mailsim.cli)."""

import sys

from mailsim.allocator import use_preferred_allocator

use_preferred_allocator()  # may re-execute this command, before the module is loaded

from mailsim.cli import main  # noqa: E402

sys.exit(main())
