"""The editor API's routes, one module per resource."""
