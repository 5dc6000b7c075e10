"""The command line's answers to common mistakes, as a user makes them: a misspelled function, a
symbol the model file does not declare, training data with a NaN, of the wrong shape or with
arrays of different lengths, and every option's --help line. Each is one line naming the culprit
and what would work (with the real compiler: the shape comes from its first probe of the data)."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import FreeSymbolError

from symgrad import cli
from symgrad.cli.command import build_parser
from standin_program import SOFTMAX_MODEL_FILE, blobs


@pytest.mark.parametrize("f, guess", [("sigmod(w*x)", "'sigmoid'"), ("Relu(w)", "'relu'"),
                                      ("softmx(w)", "'softmax'"), ("ln(w)", "'log'")])
def test_a_misspelled_function_is_named_with_the_nearest(f, guess, capsys):
    assert cli.main(["check", f, "--wrt", "w", "--claimed", "1"]) == 2
    err = capsys.readouterr().err
    assert f"unknown function" in err and f"did you mean {guess}?" in err, err
    assert "not allowed" not in err


def test_an_unknown_function_without_a_near_name_lists_the_known(capsys):
    assert cli.main(["derive", "eval(w)", "--wrt", "w"]) == 2
    err = capsys.readouterr().err
    assert "unknown function 'eval'" in err and "did you mean" not in err and "sigmoid" in err


@pytest.fixture
def files(tmp_path):
    (tmp_path / "model.py").write_text(SOFTMAX_MODEL_FILE)
    return tmp_path


def test_a_symbol_the_model_file_does_not_declare(files, capsys):
    text = SOFTMAX_MODEL_FILE.replace("loss = ", "c = sp.Symbol('c')\nloss = c * ")
    assert text != SOFTMAX_MODEL_FILE
    (files / "m.py").write_text(text)
    assert cli.main(["compile", str(files / "m.py")]) == 2
    err = capsys.readouterr().err
    assert f"{files / 'm.py'}: the loss uses 'c', which is neither a parameter nor an input" in err
    assert "the model file's params or inputs list" in err and "params=[...]" not in err, err


def test_an_undeclared_symbol_is_said_by_fields_the_command_rewords():
    """The command's advice (the model file's lists) replaced sg.compile's by a regular expression over
    its message; the error now carries the symbols and the finding apart from the advice."""
    w, x, c = sp.symbols("w x c")
    with pytest.raises(FreeSymbolError) as e:
        sg.compile((w * x - c) ** 2, [w], [x])
    assert e.value.names == ["c"] and e.value.said == "the loss uses 'c', which is neither a parameter nor an input"
    assert str(e.value) == e.value.said + "; add it to params=[...] or inputs=[...]"


def _train(files, data, capsys, *extra):
    np.savez(files / "d.npz", **data)
    code = cli.main(["train", str(files / "model.py"), "--data", str(files / "d.npz"), "--epochs",
                     "1", "--no-progress", *extra])
    return code, capsys.readouterr().err


def test_a_non_finite_value_in_the_data_is_located(files, capsys):
    data = blobs(40)
    data["x"][7, 2] = np.inf
    code, err = _train(files, data, capsys)
    assert code == 2
    assert f"--data {files / 'd.npz'}: the array 'x' has 1 non-finite entry" in err, err
    assert "the first inf at index [7, 2] (sample 7)" in err and "drop or fill" in err


def test_missing_values_in_the_data_are_located_by_column(files, capsys):
    """A NaN (pandas' missing value, saved by df.to_numpy()) was 'the first nan at index [7, 2]' only."""
    data = blobs(40)
    data["x"][7, 2] = data["x"][30, 2] = data["x"][9, 0] = np.nan
    code, err = _train(files, data, capsys)
    assert code == 2
    assert (f"--data {files / 'd.npz'}: the array 'x' has 3 missing values (NaN) among its 160 entries: column 0 "
            f"at sample 9; column 2 at samples 7 and 30 (0-based, as X[sample, column]); fill them") in err, err


def test_data_of_the_wrong_shape_is_the_data_files_fault(files, capsys):
    data = blobs(40)
    data["x"] = data["x"][:, :3]
    code, err = _train(files, data, capsys)
    assert code == 2
    assert f"--data {files / 'd.npz'}: the input 'x' has shape (40, 3)" in err, err
    assert "metrics[" not in err and "first probe" not in err


def test_arrays_of_different_lengths_are_named(files, capsys):
    data = blobs(40)
    data["t"] = data["t"][:30]
    code, err = _train(files, data, capsys)
    assert code == 2 and "'x' 40, 't' 30" in err, err


@pytest.mark.parametrize("command", ["derive", "check", "compile", "train"])
def test_every_option_has_a_help_line(command):
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[command]
    bare = [a.option_strings or [a.dest] for a in sub._actions if not a.help]
    assert bare == [], bare


@pytest.mark.parametrize("argv, said", [
    (["train", "m.py", "--data", "d.npz", "--validaton", "v.npz"],
     "symgrad train: error: unrecognized arguments: --validaton v.npz (--validaton: did you mean --validation?)"),
    (["train", "m.py", "--data", "d.npz", "--batchsize", "8"], "(--batchsize: did you mean --batch-size?)"),
    (["trian", "m.py"], "invalid choice: 'trian' (choose from 'derive', 'check', 'compile', 'train', 'evaluate', 'predict'); did you mean 'train'?"),
    (["compile", "m.py", "--optimizer", "adamm"], "did you mean 'adam'?"),
])
def test_a_misspelled_option_or_command_is_named_with_the_nearest(argv, said, capsys):
    """Before: "symgrad: error: unrecognized arguments: --validaton v.npz (see symgrad --help)", the
    top level's words with no command named, and no nearest name for an option or a command."""
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert said in err and len(err.strip().splitlines()) == 1, err


def test_the_optimizer_option_takes_any_case_as_sg_compile_does(files, capsys):
    """Before: --optimizer Adam was an invalid choice, where sg.compile(optimizer="Adam") is Adam."""
    from symgrad.cli.command import build_parser
    args = build_parser().parse_args(["compile", str(files / "model.py"), "--optimizer", "Adam"])
    assert args.optimizer == "adam"


def test_several_symbols_the_model_file_does_not_declare(files, capsys):
    text = SOFTMAX_MODEL_FILE.replace("loss = ", "c, d = sp.symbols('c d')\nloss = c * d * ")
    (files / "m2.py").write_text(text)
    assert cli.main(["compile", str(files / "m2.py")]) == 2
    err = capsys.readouterr().err
    assert "uses 'c', 'd', which are neither parameters nor inputs; add each to the model file's params" in err, err


@pytest.mark.parametrize("old, new, said", [
    # the file's first line is empty (the text starts with a newline): line 8 is `optimizer = ...`
    ("sg.optim.Adam(", "sg.optim.Adamm(", "failed at line 8: AttributeError: module 'symgrad.compiling.optim' "
                                          "has no attribute 'Adamm' (did you mean 'Adam'?)"),
    ("loss = sg.cross_entropy(outputs[0], t)", "loss = sg.cross_entropy(output[0], t)",
     "failed at line 6: NameError: name 'output' is not defined (did you mean 'outputs'?)"),
    ("outputs = [W * x + b]", "outputs = [x * W + b]", "failed at line 5: ShapeError"),
    ("sg.optim.Adam(lr=0.05)", "'adamm'", "'optimizer' must be a symgrad optimizer (e.g. sg.optim.Adam(lr=1e-3)) "
                                          "or one of the names sgd, momentum, nesterov, adagrad, rmsprop, adam, "
                                          "adamw; got 'adamm' (did you mean 'adam'?)"),
])
def test_a_mistake_in_the_model_file_is_named_by_its_line_and_the_nearest_name(files, capsys, old, new, said):
    # "running m.py failed: AttributeError: ... has no attribute 'Adamm'": no line, no suggestion
    # (Python 3.12's traceback makes one; the command shows no traceback)
    text = SOFTMAX_MODEL_FILE.replace(old, new)
    assert text != SOFTMAX_MODEL_FILE
    (files / "m.py").write_text(text)
    assert cli.main(["train", str(files / "m.py"), "--data", str(files / "d.npz")]) == 2
    err = capsys.readouterr().err
    assert said in err and len(err.splitlines()) == 1, err


def test_a_syntax_error_in_the_model_file_names_its_line_once(files, capsys):
    (files / "m.py").write_text(SOFTMAX_MODEL_FILE.replace("loss = ", "loss = = "))
    assert cli.main(["compile", str(files / "m.py")]) == 2
    err = capsys.readouterr().err
    assert "failed: SyntaxError: invalid syntax (m.py, line 6)" in err and "at line" not in err, err


def test_a_symbol_in_both_params_and_inputs_is_named_as_such(files, capsys):
    # it was sg.compile's "two parameters/inputs share the name 'x'; values are keyed by name ..."
    text = SOFTMAX_MODEL_FILE.replace("params, inputs, target = [W, b], [x, t], t",
                                      "params, inputs, target = [W, b, x], [x, t], t")
    assert text != SOFTMAX_MODEL_FILE
    (files / "m.py").write_text(text)
    assert cli.main(["compile", str(files / "m.py")]) == 2
    err = capsys.readouterr().err
    assert f"{files / 'm.py'}: 'x' is in both params and inputs: a parameter is trained, an input is read from " \
           f"the data" in err, err


def test_target_triton_without_a_gpu_is_said_in_the_commands_words(files, capsys, monkeypatch):
    # it was sg.compile's "target='triton' needs a CUDA device; ... set TRITON_INTERPRET=1", with no word of
    # the default NumPy target that trains on the CPU
    torch = pytest.importorskip("torch")
    pytest.importorskip("triton")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    np.savez(files / "d.npz", **blobs(8, seed=0))
    assert cli.main(["train", str(files / "model.py"), "--data", str(files / "d.npz"), "--target", "triton",
                     "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "--target triton needs a CUDA GPU, and this machine has none: leave --target out to train with NumPy " \
           "on the CPU" in err and "target='triton'" not in err, err


@pytest.mark.parametrize("argv, said", [
    (["--early-stopping", "3"], "(--early-stopping: early stopping is --patience EPOCHS"),
    (["--schedule", "cosine"], "(--schedule: a learning-rate schedule is the model file's"),   # was: --seed?
    (["--momentum", "0.9"], "(--momentum: the optimizer's hyperparameters other than --lr"),    # was: --monitor?
    (["--resume-from-checkpoint", "ck.npz"], "(--resume-from-checkpoint: --resume CK.npz"),     # was: --checkpoint?
    (["--quiet"], "(--quiet: the epoch lines always come on stdout; --no-progress"),           # was: --best?
    (["-o", "out.npz"], "(-o: the trained values are saved by --checkpoint CK.npz"),
    (["--gpus", "1"], "(--gpus: --target triton trains on a CUDA GPU"),
    (["--max_epochs=5"], "(--max_epochs: --epochs N"),
])
def test_another_tools_training_option_is_told_where_train_has_it(argv, said, capsys):
    """Lightning's, Keras scripts' and Hugging Face's flags: before, nothing (--early-stopping,
    --gpus) or a wrong nearest spelling (--schedule: "did you mean --seed?")."""
    assert cli.main(["train", "m.py", "--data", "d.npz"] + argv) == 2
    err = capsys.readouterr().err
    assert said in err and "did you mean" not in err and len(err.strip().splitlines()) == 1, err


def test_the_table_of_other_tools_options_names_only_options_that_exist():
    """Each piece of advice names options of the command (or of symgrad evaluate), and no entry is
    an option of the command itself (it would never be reached)."""
    import argparse
    import re
    from symgrad.cli.command import build_parser
    from symgrad.compiling.options_elsewhere import COMMAND_ELSEWHERE
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for command, table in COMMAND_ELSEWHERE.items():
        own = set(sub.choices[command]._option_string_actions) | set(sub.choices["evaluate"]._option_string_actions)
        for name, advice in table.items():
            assert name not in sub.choices[command]._option_string_actions, name
            named = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", advice))
            assert named <= own, (name, named - own)


@pytest.mark.parametrize("option, said", [
    ("--class-weight", "class weights are the model file's loss's, as torch's: sg.bce_with_logits(logit, y, "
                       "pos_weight=n0 / n1)"),
    ("--normalize", "--standardize: each feature column by its mean and standard deviation"),
    ("--scale", "--standardize"),
    ("--val-split", "--validation-split FRACTION"),
    ("--label", "a table's columns go to the model file's inputs in their order"),
    ("--features", "a table's columns go to the model file's inputs in their order"),
])
def test_a_data_scientists_options_are_told_where_they_are(tmp_path, capsys, option, said):
    """Before: --class-weight balanced was only 'unrecognized', --normalize 'did you mean --optimizer?' and
    --scale 'did you mean --seed?'."""
    (tmp_path / "m.py").write_text("x = 1\n")
    assert cli.main(["train", str(tmp_path / "m.py"), "--data", "d.csv", option, "0.2"]) == 2
    err = capsys.readouterr().err
    assert f"({option}: {said}" in err and "did you mean" not in err, err


@pytest.mark.parametrize("command", ["train", "evaluate", "predict"])
def test_a_label_column_given_as_target_is_told_what_target_is(tmp_path, capsys, command):
    """--target churn (the label column, as AutoML tools name it) was "invalid choice: 'churn' (choose from
    'numpy', 'triton')"."""
    (tmp_path / "m.py").write_text("x = 1\n")
    ck = [] if command == "train" else ["ck.npz"]
    assert cli.main([command, str(tmp_path / "m.py"), *ck, "--data", "d.csv", "--target", "churn"]) == 2
    err = capsys.readouterr().err
    assert "argument --target: 'churn' is no backend: --target chooses the backend" in err, err
    assert "The labels are the model file's: target = <the input holding them>" in err
