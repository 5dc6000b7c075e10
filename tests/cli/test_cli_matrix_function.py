"""A model file that applies SymPy's tanh to a whole matrix (the lecture notation) fails inside SymPy
("noncommutative scalars in MatMul"); the command says to write sg.tanh."""
from symgrad import cli

MODEL = '''
import sympy as sp, symgrad as sg
x, t = sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("t", 2, 1)
W1, b1, W2 = sp.MatrixSymbol("W1", 4, 3), sp.MatrixSymbol("b1", 4, 1), sp.MatrixSymbol("W2", 2, 4)
loss = sg.mse(W2 * sp.tanh(W1 * x + b1), t)
params, inputs = [W1, b1, W2], [x, t]
'''


def test_sympy_tanh_of_a_matrix_in_a_model_file_names_sg_tanh(tmp_path, capsys):
    (tmp_path / "model.py").write_text(MODEL)
    assert cli.main(["compile", str(tmp_path / "model.py"), "-o", str(tmp_path / "step.py")]) == 2
    err = capsys.readouterr().err
    assert "noncommutative scalars in MatMul" in err and "write sg.tanh(W*x + b)" in err
    assert not (tmp_path / "step.py").exists()


def test_with_sg_tanh_it_compiles(tmp_path):
    (tmp_path / "model.py").write_text(MODEL.replace("sp.tanh(", "sg.tanh("))
    assert cli.main(["compile", str(tmp_path / "model.py"), "-o", str(tmp_path / "step.py")]) == 0
    assert "numpy.tanh" in (tmp_path / "step.py").read_text()
