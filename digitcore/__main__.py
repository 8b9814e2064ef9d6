import sys

from digitcore.cli import main

sys.exit(main())
