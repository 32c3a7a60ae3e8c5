"""Payment provider adapters, one package per provider, the country factory and the simulator."""
