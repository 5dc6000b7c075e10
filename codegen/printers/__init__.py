"""Code printers: subclasses of SymPy's printers with a function table each."""
