"""Mistakes from a new user's trial of sg.compile and sg.train (tensors over a batch, a per-example
CNN, the command line), each refused with a message that names the problem and what is supported."""
import warnings

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.compiling import optim as O
from symgrad.compiling.training import TrainingArgumentError, TrainingDiverged
from symgrad.errors import ArgumentError, ShapeError

N = sp.Symbol("N", integer=True, positive=True)


def _regression(lr=0.01):
    """Whole-batch linear regression: mean over N of (x·W − y)²."""
    x, y, W = sg.tensor("x", (N, 4)), sg.tensor("y", (N, 1)), sg.tensor("W", (4, 1))
    return sg.compile(sg.mean((x @ W - y) ** 2), [W], [x, y], optimizer=O.SGD(lr=lr))


def _data(scale=1.0, n=64, seed=0):
    rng = np.random.default_rng(seed)
    return {"x": scale * rng.normal(size=(n, 4)), "y": rng.normal(size=(n, 1))}


def test_values_naming_no_parameter_are_refused():
    """values={"w": ...} for the parameter 'W' was ignored: W was drawn at random, silently."""
    prog = _regression()
    with pytest.raises(TrainingArgumentError, match=r"values\['w'\].*not a parameter.*'W'"):
        sg.train(prog, _data(), values={"w": np.ones((4, 1))}, progress=False)


def test_values_keyed_by_symbol_or_checkpoint_names_still_work():
    prog = _regression()
    W = prog.params[0]
    h = sg.train(prog, _data(), values={W: np.zeros((4, 1))}, progress=False)
    assert h.step == 2


def test_a_diverging_learning_rate_is_named_in_the_message():
    """Before: "parameter 'loss': the loss is not finite (loss inf)", with NumPy's overflow warnings
    pointing into a cached file named by a hash."""
    prog = _regression(lr=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                   # no RuntimeWarning from the generated code
        with pytest.raises(TrainingDiverged) as e:
            # (the loss grows past 1e8 times its start first: max_loss_growth stops that, tested elsewhere)
            sg.train(prog, _data(scale=30), epochs=50, progress=False, max_loss_growth=None)
    msg = str(e.value)
    assert "parameter 'loss'" not in msg and "the loss is not finite" in msg, msg
    assert "learning rate" in msg and "lr=1" in msg, msg
    assert all(np.isfinite(v).all() for v in e.value.values.values())


@pytest.mark.parametrize("cls,typo,meant", [(O.Adam, "beta", "betas"), (O.SGD, "momentun", "momentum"),
                                            (O.Adam, "lrr", "lr"), (O.RMSprop, "decay", None)])
def test_an_unknown_optimizer_option_names_the_closest_and_lists_them(cls, typo, meant):
    """Was a bare TypeError: Adam.__init__() got an unexpected keyword argument 'beta'."""
    with pytest.raises(ArgumentError) as e:
        cls(**{typo: 0.9})
    msg = str(e.value)
    assert repr(typo) in msg and cls.__name__ in msg and "lr" in msg, msg
    if meant:
        assert f"did you mean {meant!r}" in msg, msg


def test_a_scalar_label_batch_shape_is_written_as_a_tuple():
    """The message said "a batch of B examples is (B)", which is not a shape: (B,)."""
    x, y = sg.tensor("x", (4,)), sg.tensor("y", (), integer=True)
    W = sg.tensor("W", (3, 4))
    prog = sg.compile(sg.cross_entropy(W @ x, y), [W], [x, y])
    with pytest.raises(ShapeError, match=r"is \(B,\)$"):
        prog.loss({"W": np.zeros((3, 4))}, {"x": np.zeros((5, 4)), "y": np.zeros((5, 1), int)})


def _per_example_mlp():
    net = sg.mlp([8, 16, 3])
    t = sp.MatrixSymbol("t", 3, 1)
    return sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t])


@pytest.mark.parametrize("x_cols,t,said", [
    (7, "onehot", r"data\['x'\].*\(100, 7\).*\(B, 8\)"),
    (8, "labels", r"data\['t'\].*\(100,\).*integer labels.*np\.eye\(3\)\[labels\]")])
def test_a_per_example_programs_data_is_checked_before_the_first_step(x_cols, t, said):
    """The data of a per-example (MatrixSymbol) program was found wrong only by the first step, and
    reported with the minibatch's shape: "the input 'x' has shape (32, 7)", not the data's (100, 7)."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 100)
    data = {"x": rng.random((100, x_cols)), "t": np.eye(3)[labels] if t == "onehot" else labels}
    with pytest.raises(TrainingArgumentError, match=said):
        sg.train(_per_example_mlp(), data, progress=False)


def test_a_later_batch_of_another_wrong_shape_is_a_clear_error_too():
    """Program.step checks every batch, not only the first: a good step, then a batch whose x has
    9 columns, then one whose x has a trailing axis too many — each a ShapeError naming x, and the
    parameters untouched by the refused steps."""
    prog = _per_example_mlp()
    rng = np.random.default_rng(1)
    values = {p.name: rng.normal(0, 0.1, p.shape).astype(np.float32) for p in prog.params}
    T = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 10)]
    values, state = prog.step(values, None, {"x": rng.random((10, 8)).astype(np.float32), "t": T})
    kept = {k: np.array(v) for k, v in values.items()}
    for bad in (rng.random((10, 9)), rng.random((10, 8, 1, 1)), rng.random((10,))):
        with pytest.raises(ShapeError, match=r"the input 'x' has shape .*\(B, 8\)"):
            prog.step(values, state, {"x": bad.astype(np.float32), "t": T})
    assert all(np.array_equal(values[k], kept[k]) for k in kept)


def _softmax_regression(outputs=True):
    x, y = sg.tensor("x", (N, 16)), sg.tensor("y", (N,), integer=True)
    W, b = sg.tensor("W", (16, 4)), sg.tensor("b", (4,))
    logits = x @ W + b
    return sg.compile(sg.cross_entropy(logits, y), [W, b], [x, y], outputs=[logits] if outputs else None)


def test_accuracy_by_name_as_keras_takes_it():
    """metrics=["accuracy"] was "unknown metric 'accuracy'": the label input is the one input the
    outputs do not read (here y), as accuracy("y") would name it."""
    from symgrad.compiling.training import accuracy
    rng = np.random.default_rng(0)
    data = {"x": rng.random((120, 16)), "y": rng.integers(0, 4, 120)}
    val = {"x": rng.random((40, 16)), "y": rng.integers(0, 4, 40)}
    prog = _softmax_regression()
    h = sg.train(prog, data, epochs=2, progress=False, validation=val, metrics=["loss", "accuracy"])
    assert h.metric("val_accuracy")[-1] == accuracy("y")(prog, h.values, val)
    logits = prog.forward(h.values, val)[0]
    assert h.metric("val_accuracy")[-1] == np.mean(logits.argmax(1) == val["y"])     # by hand


def test_accuracy_by_name_without_outputs_says_what_is_needed():
    rng = np.random.default_rng(0)
    data = {"x": rng.random((20, 16)), "y": rng.integers(0, 4, 20)}
    with pytest.raises(TrainingArgumentError, match=r"'accuracy'.*outputs=\[\.\.\.\]"):
        sg.train(_softmax_regression(outputs=False), data, progress=False, metrics=["accuracy"])
    with pytest.raises(TrainingArgumentError, match=r"unknown metric 'acuracy'.*'accuracy'"):
        sg.train(_softmax_regression(), data, progress=False, metrics=["acuracy"])


@pytest.mark.parametrize("seed", ["1", 1.5, -1, True, [1, 2]])
def test_a_seed_that_is_no_integer_is_refused_before_the_first_step(seed):
    """Before: seed="1" was NumPy's TypeError "SeedSequence expects int or sequence of ints for
    entropy not 1", from inside train; seed=True and [1, 2] were taken as seeds."""
    prog, values = _regression(), {"W": np.zeros((4, 1))}
    with pytest.raises(TrainingArgumentError, match=r"seed must be an integer >= 0"):
        sg.train(prog, _data(), values=values, seed=seed, progress=False)
    np.testing.assert_array_equal(values["W"], 0)


@pytest.mark.parametrize("shuffle", ["batch", "False", None])
def test_a_shuffle_that_is_no_bool_is_refused(shuffle):
    """Keras's shuffle="batch" (and "False" from a config) read as True: shuffled, silently."""
    with pytest.raises(TrainingArgumentError, match=r"shuffle must be True \(the default: a fresh permutation"):
        sg.train(_regression(), _data(), values={"W": np.zeros((4, 1))}, shuffle=shuffle, progress=False)


def test_numpy_seeds_still_work_and_a_generator_too():
    prog = _regression()
    a = sg.train(prog, _data(), values={"W": np.zeros((4, 1))}, seed=np.int64(3), progress=False, batch_size=8)
    b = sg.train(prog, _data(), values={"W": np.zeros((4, 1))}, seed=3, progress=False, batch_size=8)
    np.testing.assert_array_equal(a.values["W"], b.values["W"])
    c = sg.train(prog, _data(), values={"W": np.zeros((4, 1))}, seed=np.random.default_rng(3), progress=False,
                 batch_size=8)
    np.testing.assert_array_equal(c.values["W"], b.values["W"])     # the same permutations


def test_one_hot_validation_labels_get_the_argmax_fix_as_data_would():
    """Before: "validation['y'] has samples of shape (2,), but data['y'] has samples of shape ()",
    where the same array as data is told to pass .argmax(axis=1)."""
    x, y = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True)
    W = sg.tensor("W", (4, 2))
    prog = sg.compile(sg.cross_entropy(x @ W, y), [W], [x, y])
    rng = np.random.default_rng(0)
    data = {"x": rng.normal(size=(20, 4)), "y": rng.integers(0, 2, 20)}
    bad = {"x": data["x"], "y": np.eye(2)[data["y"]]}
    with pytest.raises(TrainingArgumentError, match=r"validation\['y'\] has shape \(20, 2\).*one-hot rows.*"
                                                    r"validation\['y'\]\.argmax\(axis=1\)"):
        sg.train(prog, data, validation=bad, progress=False)


def test_features_by_samples_data_is_called_transposed():
    """Before: only "got {'x': 4, 'y': 64}" for X held (features, samples), as the slides' X is."""
    prog, data = _regression(), _data()
    with pytest.raises(TrainingArgumentError, match=r"data\['x'\] looks transposed.*pass data\['x'\]\.T, of shape \(64, 4\)"):
        sg.train(prog, {"x": data["x"].T, "y": data["y"]}, progress=False)
    with pytest.raises(TrainingArgumentError) as e:                     # not said of another mistake
        sg.train(prog, {"x": data["x"][:10], "y": data["y"]}, progress=False)
    assert "transposed" not in str(e.value)


def test_a_sudden_non_finite_loss_names_the_usual_cause():
    """Before: "training diverged at step 2 ... its gradient is not finite (loss nan)" and nothing
    more. The case was once the log of a softmax written out (exp of a large logit overflows:
    inf/inf); symgrad now reads that as the stable log_softmax, so here an exp link overflows
    (a Poisson regression on inputs of scale 30: one step of lr=1 takes exp(x·w) past the largest
    double, with w still of a sane size)."""
    x, t, w = sg.tensor("x", (N, 4)), sg.tensor("t", (N,)), sg.tensor("w", (4,))
    z = x @ w
    prog = sg.compile(sg.mean(sp.exp(z) - t * z), [w], [x, t], optimizer=O.SGD(lr=1.0))
    rng = np.random.default_rng(0)
    data = {"x": 30 * rng.normal(size=(200, 4)), "t": rng.poisson(2.0, 200).astype(float)}
    with pytest.raises(TrainingDiverged, match=r"finite until then \(1 at step 1\).*a log or a division at 0"
                                               r".*sg\.cross_entropy take the logits.*an exp of a large input") as e:
        sg.train(prog, data, batch_size=20, progress=False, values={"w": np.zeros(4)})
    assert "learning rate (lr=" not in str(e.value)


def test_a_sudden_divergence_after_one_huge_step_names_the_learning_rate():
    """One step of lr=1e20 leaves no growing losses to see; the parameters' size says it."""
    prog = _regression(lr=1e20)
    with pytest.raises(TrainingDiverged, match=r"the parameters had grown to \S+ \(entry of 'W'\) before it: the "
                                               r"learning rate \(lr=1e\+20\) is likely too large") as e:
        sg.train(prog, _data(), batch_size=8, progress=False, values={"W": np.zeros((4, 1))})
    assert "a log or a division at 0" not in str(e.value)


def test_labels_padded_with_minus_100_are_told_of_ignore_index():
    """Before: "-100: a negative index (...; torch refuses it)" — but -100 is torch's default
    ignore_index, which its cross_entropy leaves out (and does not refuse)."""
    x, y, W = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True), sg.tensor("W", (4, 3))
    data = {"x": np.ones((4, 4)), "y": np.array([0, 1, -100, 2])}
    prog = sg.compile(sg.cross_entropy(x @ W, y), [W], [x, y], dtype="float64")
    with pytest.raises(sg.LabelRangeError, match=r"-100: a negative index .*-100 is torch's default ignore_index.*"
                                                 r"sg\.cross_entropy\(logits, y, ignore_index=-100\)") as e:
        sg.train(prog, data, progress=False)
    assert "torch refuses" not in str(e.value)
    told = sg.compile(sg.cross_entropy(x @ W, y, ignore_index=-100), [W], [x, y], dtype="float64")
    assert told.loss({"W": np.zeros((4, 3))}, data) == pytest.approx(np.log(3))      # 3 labels kept, uniform
    with pytest.raises(sg.LabelRangeError, match=r"-3: a negative index"):
        sg.train(prog, {"x": np.ones((4, 4)), "y": np.array([0, 1, -3, 2])}, progress=False)


@pytest.mark.parametrize("option, said", [
    ({"lr": 0.1}, "sg.compile(loss, params, inputs, optimizer=sg.optim.Adam(lr=1e-3))"),
    ({"optimizer": "sgd"}, "the optimizer and its hyperparameters are sg.compile's"),
    ({"verbose": 0}, "progress=False"),
    ({"validation_split": 0.2}, "validation= takes the held-out arrays themselves, not a fraction"),
    ({"callbacks": []}, "early stopping is patience="),
    ({"callbacks": []}, "CSVLogger is on_epoch=sg.EpochLog('log.csv')"),
])
def test_options_of_other_training_loops_are_told_where_symgrad_has_them(option, said):
    """Before: "train() got an unknown keyword argument 'lr'. It takes: ..." with no word of where the
    learning rate is, and "did you mean 'validation'?" for validation_split=0.2, which validation=
    does not take (a fraction)."""
    prog = _regression()
    with pytest.raises(ArgumentError) as e:
        sg.train(prog, _data(), epochs=1, progress=False, **option)
    assert f"train() takes no {next(iter(option))}=" in str(e.value) and said in str(e.value)


def test_images_where_a_per_example_vector_is_declared_are_told_the_reshape():
    """Before: "data['x']: the input 'x' has shape (40, 8, 8); declared (64, 1) per example, so a
    batch of B examples is (B, 64)" and no word of the reshape (the whole-batch message had it)."""
    net, t = sg.mlp([64, 8, 3]), sp.MatrixSymbol("t", 3, 1)
    prog = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t])
    rng = np.random.default_rng(0)
    with pytest.raises(TrainingArgumentError, match=r"pass data\['x'\]\.reshape\(-1, 64\)"):
        sg.train(prog, {"x": rng.random((40, 8, 8)), "t": np.eye(3)[rng.integers(0, 3, 40)]}, progress=False)
    w, x, y = sp.MatrixSymbol("w", 1, 2), sp.MatrixSymbol("x", 2, 1), sp.MatrixSymbol("y", 1, 1)
    prog = sg.compile(sg.mse(w * x, y), [w], [x, y])
    with pytest.raises(TrainingArgumentError, match=r"pass data\['y'\]\.reshape\(-1, 1\)"):
        sg.train(prog, {"x": rng.random((40, 2)), "y": rng.random(40)}, progress=False)


def test_several_undeclared_symbols_are_named_in_the_plural():
    """Before: "the loss uses 't', 'x', which is neither a parameter nor an input; add it to ..."."""
    from symgrad.errors import FreeSymbolError
    net, t = sg.mlp([4, 8, 3]), sp.MatrixSymbol("t", 3, 1)
    with pytest.raises(FreeSymbolError, match=r"uses 't', 'x', which are neither parameters nor inputs; "
                                              r"add each to params=\[\.\.\.\] or inputs=\[\.\.\.\]"):
        sg.compile(sg.cross_entropy(net.output, t), net.params)
    with pytest.raises(FreeSymbolError, match=r"uses 't', which is neither a parameter nor an input; add it"):
        sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input])


def test_on_epoch_is_called_with_each_epochs_record_as_it_ends():
    prog, seen = _regression(), []
    history = sg.train(prog, _data(), epochs=3, batch_size=16, progress=False, on_epoch=seen.append)
    assert seen == history.epochs and [r["epoch"] for r in seen] == [1, 2, 3]
    seen[0]["loss"] = -1.0                                   # a copy: the history keeps its own
    assert history.epochs[0]["loss"] != -1.0
    with pytest.raises(TrainingArgumentError, match="on_epoch must be a function"):
        sg.train(prog, _data(), epochs=1, progress=False, on_epoch="print")


@pytest.mark.parametrize("asked, meant", [("val_acc", "val_accuracy"), ("accuracy", "val_accuracy"), ("val_los", "val_loss")])
def test_history_metric_of_a_name_not_recorded_names_the_closest(asked, meant):
    """Before: "no metric 'val_acc' in this history; it has [...]", the list alone."""
    net, t = sg.mlp([4, 5, 3]), sp.MatrixSymbol("t", 3, 1)
    prog = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t], outputs=[net.output])
    rng = np.random.default_rng(0)
    data = {"x": rng.normal(size=(20, 4)), "t": np.eye(3)[rng.integers(0, 3, 20)]}
    history = sg.train(prog, data, epochs=1, progress=False, validation=data, metrics=["loss", "accuracy"])
    with pytest.raises(KeyError, match=f"did you mean '{meant}'"):
        history.metric(asked)


def test_kerass_fit_x_y_is_told_to_pass_the_data_as_one_argument():
    """sg.train(prog, X, T), as Keras's fit(x, y): T went in as epochs, and the message printed the
    whole array ("epochs must be an integer >= 0, got array([[1., 0., ...") without the way out."""
    prog, data = _regression(), _data()
    with pytest.raises(TrainingArgumentError) as e:
        sg.train(prog, data["x"], data["y"])
    said = str(e.value)
    assert "epochs must be an integer >= 0, got ndarray" in said
    assert "train(program, (X, T), epochs=...)" in said and "fit(x, y)" in said
    assert "[[" not in said and len(said) < 400
    with pytest.raises(TrainingArgumentError, match=r"got list: train takes the data as one argument"):
        sg.train(prog, data["x"], [0, 1])
    # what it says to write trains
    h = sg.train(prog, (data["x"], data["y"]), epochs=1, progress=False)
    assert h.step == 2
    # a count that is a NumPy scalar (it has a shape, ()) is still a count
    h = sg.train(prog, (data["x"], data["y"]), epochs=np.int64(2), progress=False)
    assert h.step == 4


def test_verbose_names_the_default_progress():
    with pytest.raises(ArgumentError, match=r"progress=None \(the default: a tqdm bar on stderr where it is a "
                                             r"terminal or in a notebook, none in a log\)"):
        sg.train(_regression(), _data(), verbose=0)


def test_a_symbol_in_both_params_and_inputs_is_named_as_such():
    """sg.compile said "two parameters/inputs share the name 'x'" for one symbol listed twice (the
    command line already said "'x' is in both params and inputs"); two symbols sharing a name keep
    that message."""
    W, x, t = sp.MatrixSymbol("W", 1, 3), sp.MatrixSymbol("x", 3, 1), sp.Symbol("t")
    with pytest.raises(sg.SymgradError, match=r"^'x' is in both params and inputs: .*list each in one"):
        sg.compile((sg.sum(W * x) - t) ** 2, [W, x], [x, t])
    x_row = sp.MatrixSymbol("x", 1, 3)          # another symbol, the same name
    with pytest.raises(sg.SymgradError, match="two parameters/inputs share the name 'x'"):
        sg.compile((sg.sum(W * x) - t) ** 2, [W, x_row], [x, t])


def test_a_per_example_image_declared_as_a_batch_of_one_is_told_to_declare_it_over_the_batch():
    """x = sg.tensor("x", (1, 1, 8, 8)), one image as torch holds it, trained on images (n, 1, 8, 8):
    the message said only to reshape the data to (n, 1, 1, 8, 8)."""
    x, y = sg.tensor("x", (1, 1, 8, 8)), sg.tensor("y", (), integer=True)
    w, W2 = sg.tensor("w", (2, 1, 3, 3)), sg.tensor("W2", (2 * 6 * 6, 3))
    logits = sg.relu(sg.conv2d(x, w)).reshape(2 * 6 * 6) @ W2
    prog = sg.compile(sg.cross_entropy(logits, y), [w, W2], [x, y], optimizer=O.Adam())
    rng = np.random.default_rng(0)
    images, labels = rng.random((12, 1, 8, 8)), rng.integers(0, 3, size=12)
    with pytest.raises(TrainingArgumentError, match=r"declared per example, 'x' of shape \(1, 1, 8, 8\) is one sample"
                       r".*declare 'x' over the batch, sg.tensor\('x', \(N, 1, 8, 8\)\) with N = sp.Symbol"):
        sg.train(prog, {"x": images, "y": labels}, progress=False)
    # the data it asks for trains; a declaration without the leading 1 gets no such advice
    h = sg.train(prog, {"x": images.reshape(-1, 1, 1, 8, 8), "y": labels}, progress=False)
    assert len(h.loss) == 1
    with pytest.raises(TrainingArgumentError) as e:
        sg.train(prog, {"x": rng.random((12, 2, 8, 8)), "y": labels}, progress=False)
    assert "declared per example" not in str(e.value)


@pytest.mark.parametrize("keyword, said", [
    ("class_weight", "class weights are the loss's (given to sg.compile), as torch's: sg.bce_with_logits"),
    ("sample_weight", "class weights are the loss's"),
    ("standardize", "train takes the data as given: standardize them first, with scikit-learn's StandardScaler"),
])
def test_keras_and_sklearns_keywords_are_told_where_they_are(keyword, said):
    """Keras's fit(class_weight=...): 'did you mean ...?' or nothing; standardize= read as standardized=, which
    takes the statistics, not True."""
    with pytest.raises(sg.ArgumentError, match=f"train\\(\\) takes no {keyword}=: " + said.replace("(", "\\(")
                       .replace(")", "\\)")):
        sg.train(None, {}, **{keyword: True})
