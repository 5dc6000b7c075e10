"""A grading server runs `symgrad evaluate MODEL.py STUDENT.npz` with its own model file and a
checkpoint (or data) it did not write: such a file is data, and nothing in it runs or is unpickled,
nor can it make symgrad unpack gigabytes, nor can an output option replace one of the command's inputs.

Each payload that would run code tries to create a marker file; none may appear.
"""
from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np
import pytest

from symgrad import cli
from symgrad.compiling import training_checkpoint as ckpt
from symgrad.compiling import training_npz

MODEL = """import sympy as sp
w, x, y = sp.symbols("w x y")
loss = (w*x - y)**2
params = [w]
inputs = [x, y]
"""


class _Runs:
    """Unpickling this runs ``touch MARK``."""
    def __init__(self, mark):
        self.mark = mark

    def __reduce__(self):
        return (os.system, (f"touch {self.mark}",))


def _npy(a) -> bytes:
    b = io.BytesIO()
    np.save(b, a, allow_pickle=True)
    return b.getvalue()


@pytest.fixture
def files(tmp_path):
    (tmp_path / "model.py").write_text(MODEL)
    x = np.arange(8.0)
    np.savez(tmp_path / "data.npz", x=x, y=2 * x)
    (tmp_path / "data.csv").write_text("x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(8)))
    ckpt.save(tmp_path / "ck.npz", {"w": np.array(1.5)}, step=2, epoch=2)     # stored as array a0
    return tmp_path


def _members(path) -> dict:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _huge_npy() -> bytes:
    """A .npy member whose header says (10**6, 10**6) float64 (7 TiB) over 64 bytes of data."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (10**6, 10**6)})
    return header.getvalue() + bytes(64)


def _write(path, members: dict, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as z:
        for n, b in members.items():
            z.writestr(n, b)


def _evaluate(files, ck, capsys, data="data.csv"):
    code = cli.main(["evaluate", str(files / "model.py"), str(ck), "--data", str(files / data)])
    return code, capsys.readouterr().err


def test_the_untampered_checkpoint_evaluates(files, capsys):
    # the baseline the attacks below change one thing of: loss of w = 1.5 on y = 2x is mean(0.25 x^2)
    code = cli.main(["evaluate", str(files / "model.py"), str(files / "ck.npz"), "--data", str(files / "data.csv")])
    out = capsys.readouterr().out
    assert code == 0 and f"loss {np.mean(0.25 * np.arange(8.0) ** 2):.6g}" in out, out


@pytest.mark.parametrize("member", ["a0.npy", "extra.npy", "index.npy"])
def test_an_object_array_in_a_checkpoint_is_never_unpickled(files, capsys, member, tmp_path):
    mark = tmp_path / "MARK"
    members = _members(files / "ck.npz")
    members[member] = _npy(np.array([_Runs(mark)], dtype=object))
    _write(files / "bad.npz", members)
    code, err = _evaluate(files, files / "bad.npz", capsys)
    assert not mark.exists()
    if member == "extra.npy":        # a member the index does not name is never read: it evaluates
        assert code == 0, err
    else:
        assert code == 2 and "bad.npz is not a readable symgrad checkpoint" in err, err
        assert "Object arrays cannot be loaded when allow_pickle=False" in err


@pytest.mark.parametrize("data", ["data.npz", "val.npz"])
def test_an_object_array_in_a_data_file_is_never_unpickled(files, capsys, data, tmp_path):
    mark = tmp_path / "MARK"
    members = _members(files / "data.npz")
    members["x.npy"] = _npy(np.array([_Runs(mark)] * 8, dtype=object))
    _write(files / "bad.npz", members)
    argv = ["train", str(files / "model.py"), "--no-progress", "--epochs", "1"]
    argv += (["--data", str(files / "bad.npz")] if data == "data.npz" else
             ["--data", str(files / "data.npz"), "--validation", str(files / "bad.npz")])
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert not mark.exists()
    assert "holds Python objects (saved with pickle), which are not read" in err, err


def test_a_hostile_index_is_a_checkpoint_error(files, capsys):
    # nested past Python's recursion limit, and an index naming an array the file lacks
    members = _members(files / "ck.npz")
    deep = '{"values": ' + '{"list": [' * 100_000 + "]}" * 100_000 + ', "state": {"none": null}, "step": 0, "epoch": 0}'
    members["index.npy"] = _npy(np.array(deep))
    _write(files / "deep.npz", members)
    code, err = _evaluate(files, files / "deep.npz", capsys)
    assert code == 2 and "deep.npz is not a readable symgrad checkpoint" in err, err
    index = {"values": {"dict": [["w", {"array": "nowhere"}]]}, "state": {"none": None}, "step": 0, "epoch": 0}
    members["index.npy"] = _npy(np.array(json.dumps(index)))
    _write(files / "missing.npz", members)
    with pytest.raises(ckpt.CheckpointError, match="missing.npz is not a readable symgrad checkpoint"):
        ckpt.load_checkpoint(files / "missing.npz")


def test_a_huge_declared_shape_is_refused_without_allocating_it(files, capsys):
    members = _members(files / "ck.npz")
    members["a0.npy"] = _huge_npy()
    _write(files / "huge.npz", members)
    code, err = _evaluate(files, files / "huge.npz", capsys)
    assert code == 2 and "huge.npz is not a readable symgrad checkpoint" in err, err


def _bomb(members, name="pad.npy"):
    """``members`` plus a deflated member of zeros that expands past training_npz's limits: 80 MiB
    from under a megabyte."""
    size = training_npz.LARGE + 16 * 2**20
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (size // 8,)})
    return {**members, name: header.getvalue() + bytes(size)}


@pytest.mark.parametrize("member", ["pad.npy", "a0.npy"])
def test_a_zip_bomb_checkpoint_is_refused_before_it_is_unpacked(files, capsys, member):
    # Before: every member was read, the ones the index does not name too (a 1.5 MB file held 1.6 GB
    # of zeros, read in 20 s).
    _write(files / "bomb.npz", _bomb(_members(files / "ck.npz"), member), zipfile.ZIP_DEFLATED)
    assert os.path.getsize(files / "bomb.npz") < training_npz.LARGE // training_npz.RATIO
    code, err = _evaluate(files, files / "bomb.npz", capsys)
    assert code == 2, err
    assert f"bomb.npz is not read as a checkpoint: its member '{member}' expands from" in err, err
    assert "a zip bomb?" in err


def test_a_zip_bomb_data_file_is_refused_before_it_is_unpacked(files, capsys):
    _write(files / "bomb.npz", _bomb(_members(files / "data.npz")), zipfile.ZIP_DEFLATED)
    code, err = _evaluate(files, files / "ck.npz", capsys, data="bomb.npz")
    assert code == 2 and "--data" in err and "its member 'pad.npy' expands from" in err, err


def _many(members, count=10, name="w{}.npy"):
    """``members`` plus ``count`` deflated members of zeros, each well under training_npz's limit on
    one member (LARGE / 8) and together past it."""
    size = training_npz.LARGE // 8
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (size // 8,)})
    return {**members, **{name.format(i): header.getvalue() + bytes(size) for i in range(count)}}


def test_many_small_bomb_members_together_are_refused(files, capsys):
    # Before: the check looked at one member at a time; 20 members of 60 MiB each (a 1.2 MB file)
    # took 2.5 GB to read as a checkpoint
    members = _many(_members(files / "ck.npz"), name="a{}.npy")
    index = {"values": {"dict": [[f"w{i}", {"array": f"a{i}"}] for i in range(10)]}, "state": {"none": None},
             "step": 1, "epoch": 1}
    members["index.npy"] = _npy(np.array(json.dumps(index)))
    _write(files / "many.npz", members, zipfile.ZIP_DEFLATED)
    code, err = _evaluate(files, files / "many.npz", capsys)
    assert code == 2, err
    assert "many.npz is not read as a checkpoint: its 11 members expand from" in err, err
    assert "together" in err and "a zip bomb?" in err and f"{training_npz.RATIO}-fold" in err


def test_many_small_bomb_members_in_a_data_file_are_refused(files, capsys):
    _write(files / "many.npz", _many(_members(files / "data.npz")), zipfile.ZIP_DEFLATED)
    code, err = _evaluate(files, files / "ck.npz", capsys, data="many.npz")
    assert code == 2 and "--data" in err and "members expand from" in err and "together" in err, err


def test_an_array_named_twice_in_the_index_is_refused(files):
    # each array is handed out as np.load made it (no copy); naming one many times would have made
    # as many copies of it
    members = _members(files / "ck.npz")
    index = {"values": {"dict": [["w", {"array": "a0"}], ["v", {"array": "a0"}]]}, "state": {"none": None},
             "step": 0, "epoch": 0}
    members["index.npy"] = _npy(np.array(json.dumps(index)))
    _write(files / "twice.npz", members)
    with pytest.raises(ckpt.CheckpointError, match="names the array 'a0' more than once"):
        ckpt.load_checkpoint(files / "twice.npz")


def test_a_compressed_checkpoint_of_real_numbers_still_loads(files):
    # np.savez_compressed of a big random array shrinks it a little: far from the limit
    w = np.random.default_rng(0).normal(size=training_npz.LARGE // 8 + 1000)
    members = _members(files / "ck.npz")
    members["a0.npy"] = _npy(w)
    _write(files / "big.npz", members, zipfile.ZIP_DEFLATED)
    assert np.array_equal(ckpt.load_checkpoint(files / "big.npz").values["w"], w)


def test_members_the_index_does_not_name_are_not_read(files):
    members = _members(files / "ck.npz")
    members["extra.npy"] = b"not an array at all"
    _write(files / "extra.npz", members)
    assert ckpt.load_checkpoint(files / "extra.npz").values == {"w": np.array(1.5)}


@pytest.mark.parametrize("onto, flag", [("data.npz", "--data"), ("model.py", "the model file"),
                                        ("val.npz", "--validation"), ("ck.npz", "--checkpoint")])
def test_best_onto_another_file_of_the_command_is_refused(files, capsys, onto, flag):
    # Before: --best data.npz replaced the training data with a checkpoint when training ended
    np.savez(files / "val.npz", x=np.arange(4.0), y=np.arange(4.0))
    before = (files / onto).read_bytes()
    argv = ["train", str(files / "model.py"), "--data", str(files / "data.npz"), "--validation",
            str(files / "val.npz"), "--no-progress", "--epochs", "1", "--patience", "1",
            "--checkpoint", str(files / "ck.npz"), "--best", str(files / onto)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert f"--best {files / onto}: that is {flag}; saving the best epoch there would overwrite it" in err, err
    assert (files / onto).read_bytes() == before


def test_a_table_cell_over_the_csv_field_limit_is_bad_input(files, capsys):
    # Before: "symgrad evaluate: internal error: Error: field larger than field limit (131072) — this
    # is a bug in symgrad"
    (files / "big.csv").write_text("x,y\n1," + "9" * 200_000 + "\n2,4\n")
    code, err = _evaluate(files, files / "ck.npz", capsys, data="big.csv")
    assert code == 2 and "internal error" not in err, err
    assert "big.csv: line 2 is not read as a row of numbers (field larger than field limit" in err, err


@pytest.mark.parametrize("cell", ["__import__('os').system('touch MARK')", "=cmd|'/C touch MARK'!A0"])
def test_a_table_cell_is_read_as_a_number_never_evaluated(files, capsys, cell, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (files / "code.csv").write_text(f"x,y\n1,2\n\"{cell}\",4\n")
    code, err = _evaluate(files, files / "ck.npz", capsys, data="code.csv")
    assert not (tmp_path / "MARK").exists()
    assert code == 2 and "line 3, column 1 holds" in err and "which is not a number" in err, err


@pytest.mark.parametrize("field, value", [("samples", "many"), ("seed", [1, 2]), ("epoch", -1), ("seen", -4),
                                          ("step", 1.5), ("step", True)])
def test_an_index_count_that_is_no_count_is_refused(files, capsys, field, value):
    # Before: 'samples': "many" was "symgrad train: error: '>' not supported between instances of 'int'
    # and 'str'", and 'seen': -4 was "resuming ..., saved -4 samples into epoch 0"
    members = _members(files / "ck.npz")
    with np.load(files / "ck.npz") as z:
        index = json.loads(str(z["index"]))
    index[field] = value
    members["index.npy"] = _npy(np.array(json.dumps(index)))
    _write(files / "odd.npz", members)
    argv = ["train", str(files / "model.py"), "--data", str(files / "data.npz"), "--no-progress",
            "--epochs", "3", "--resume", str(files / "odd.npz")]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert f"odd.npz is not a symgrad checkpoint: its {field!r} is {json.dumps(value)}, not " in err, err


@pytest.mark.parametrize("values, said", [
    ({"list": [{"array": "a0"}]}, "its values are a list, not a dict of the parameters' values by name"),
    ({"scalar": "w"}, 'the index holds {"scalar": "w"}, none of what save writes'),
    ({"evil": 1}, 'the index holds {"evil": 1}, none of what save writes'),
    ({"dict": [["w", {"scalar": {"nested": 1}}]]}, "none of what save writes")])
def test_an_index_of_other_kinds_is_refused(files, capsys, values, said):
    # Before: the first three were "internal error: AttributeError: 'list' object has no attribute
    # 'items' — this is a bug in symgrad" ('str', 'int' object)
    members = _members(files / "ck.npz")
    with np.load(files / "ck.npz") as z:
        index = json.loads(str(z["index"]))
    index["values"] = values
    members["index.npy"] = _npy(np.array(json.dumps(index)))
    _write(files / "odd.npz", members)
    code, err = _evaluate(files, files / "odd.npz", capsys)
    assert code == 2 and "internal error" not in err and said in err, err


@pytest.mark.parametrize("name, content", [
    ("log.csv", "epoch,loss,train_loss,seconds\n1," + "9" * 200_000 + ",1,1\n"),
    ("log.csv", b"epoch,loss,train_loss,seconds\n1,2,2,1\n\xff\xfe\n"),
    ("log.jsonl", b'{"epoch": 1}\n\xff\n')])
def test_a_log_to_append_to_that_is_no_log_is_bad_input(files, capsys, name, content):
    # Before: "internal error: Error: field larger than field limit (131072)", and "error: 'utf-8'
    # codec can't decode byte 0xff in position 15" naming no file
    log = files / name
    log.write_bytes(content if isinstance(content, bytes) else content.encode())
    argv = ["train", str(files / "model.py"), "--data", str(files / "data.npz"), "--no-progress",
            "--epochs", "3", "--resume", str(files / "ck.npz"), "--log", str(log)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert f"error: the log {log} to append to is not read as a log (" in err and "internal error" not in err, err
    assert log.read_bytes() == (content if isinstance(content, bytes) else content.encode())


def test_a_huge_declared_shape_in_a_data_file_is_bad_input(files, capsys):
    members = _members(files / "data.npz")
    members["x.npy"] = _huge_npy()
    _write(files / "huge.npz", members)
    code, err = _evaluate(files, files / "ck.npz", capsys, data="huge.npz")
    assert code == 2 and "--data" in err and "huge.npz is not a readable .npz file" in err, err
