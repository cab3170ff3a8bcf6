#!/usr/bin/env python
"""Django's manage.py; operators use the equivalent ``trefpunt`` command."""

from trefpunt.__main__ import main

if __name__ == "__main__":
    main()
