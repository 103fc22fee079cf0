import sys

from plant_sim.cli import main

sys.exit(main())
