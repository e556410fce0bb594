"""python -m mailsim ...: the command line (see mailsim.cli)."""

import sys

from mailsim.cli import main

sys.exit(main())
