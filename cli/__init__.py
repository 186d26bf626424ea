"""`scimd up`: the whole system on one machine, embedded servers included."""
