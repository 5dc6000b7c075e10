"""Load a program's saved NumPy module (``Program.save``) as a user would import it."""
import importlib.util


def load_saved(prog, tmp_path, name="saved_step"):
    """``prog`` saved to ``tmp_path/name.py`` and imported as the module ``name``."""
    path = tmp_path / f"{name}.py"
    prog.save(path)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
