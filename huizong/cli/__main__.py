import sys

from huizong.cli.app import main

sys.exit(main())
