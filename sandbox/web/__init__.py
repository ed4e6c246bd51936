"""HTTP: thin views that parse, call the domain and render HAL."""
