import sys

from laundrybot.cli import main

sys.exit(main())
