"""``python -m pbxsim --conf asterisk-conf --ami-port 5038``"""
import sys

from .simulator import main

sys.exit(main())
