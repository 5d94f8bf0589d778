"""Pure domain: rules and values, no I/O, no platform, database or scheduler imports."""
