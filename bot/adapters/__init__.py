"""Platform adapters: translate platform events into service calls and draw replies."""
