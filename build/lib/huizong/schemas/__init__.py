"""The indicator catalog, the unit registry and the pandera schemas built from them."""
