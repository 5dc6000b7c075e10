"""The messages around the optimizer's groups= and clipping: a step option given to the wrong
function, a bad value inside a group, a norm type without a norm."""
import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ArgumentError
from symgrad.frontend.keywords import check_keywords

w, x = sp.symbols("w x")


def test_compile_groups_points_to_the_optimizer():
    with pytest.raises(ArgumentError, match=r"compile\(\) takes no groups=: parameter groups "
                                            r"are an option of the optimizer") as e:
        sg.compile((w * x) ** 2, [w], [x], groups=[{"params": [w], "lr": 0.1}])
    assert "outputs" not in str(e.value)


@pytest.mark.parametrize("kw", ["groups", "clip_grad_norm", "clip_grad_value"])
def test_train_step_options_point_to_sg_compile(kw):
    prog = sg.compile((w * x) ** 2, [w], [x])
    with pytest.raises(ArgumentError, match=rf"train\(\) takes no {kw}=: .* an option of the "
                                            r"optimizer given to sg.compile"):
        sg.train(prog, {"x": np.ones(4)}, values={"w": np.array(1.0)}, progress=False, **{kw: 1.0})


@pytest.mark.parametrize("kw", ["lr", "momentum", "max_norm", "param_groups"])
def test_compile_given_an_optimizers_option_names_optimizer_eq(kw):
    """Before: sg.compile(loss, params, inputs, lr=0.1) was "unknown keyword argument 'lr' ... It takes:
    loss, params, inputs, target, optimizer, ..." with no word of the optimizer's lr=."""
    with pytest.raises(ArgumentError, match=rf"compile\(\) takes no {kw}=: .*optimizer=sg\.optim\."):
        sg.compile((w * x) ** 2, [w], [x], **{kw: 0.1})


def test_one_table_says_where_compile_and_train_have_other_libraries_options():
    """train's table and compile's used to be two (symgrad.compiling.training_options beside
    symgrad.frontend.keywords.NOT_OFFERED, train's wording made with str.replace): every option
    compile is told about, train is told about too, and neither is a name either takes."""
    import inspect
    from symgrad.compiling.options_elsewhere import ELSEWHERE
    from symgrad.compiling.training import train
    assert set(ELSEWHERE["compile"]) <= set(ELSEWHERE["train"])
    for fn in (sg.compile, train):
        assert not set(ELSEWHERE[fn.__name__]) & set(inspect.signature(fn).parameters)


def test_a_layers_groups_is_not_the_optimizers():
    with pytest.raises(ArgumentError, match="unknown keyword argument 'groups'") as e:
        check_keywords("conv2d", ["groups"], ["stride", "padding"])
    assert "optimizer" not in str(e.value)


def test_a_symbolic_lr_in_a_group_names_the_group():
    b = sp.Symbol("b")
    opt = sg.optim.SGD(lr=0.1, groups=[{"params": ["w"], "lr": sp.Symbol("eta")}])
    with pytest.raises(ArgumentError, match=r"SGD: groups\[0\] sets lr symbolic \(eta\) \(the optimizer's own lr "
                                            r"is a number\)"):
        sg.compile((w * x + b) ** 2, [w, b], [x], optimizer=opt)
    both = sg.optim.SGD(lr=sp.Symbol("mu"), groups=[{"params": ["w"], "lr": sp.Symbol("eta")}])
    with pytest.raises(ArgumentError, match=r"SGD: (lr is symbolic|groups\[0\] sets lr symbolic \(eta\);)"):
        sg.compile((w * x + b) ** 2, [w, b], [x], optimizer=both)


def test_a_norm_type_without_a_norm_is_refused():
    with pytest.raises(ArgumentError, match=r"clip_norm_type=inf without clip_grad_norm"):
        sg.optim.Adam(clip_norm_type=float("inf"))
    opt = sg.optim.Adam(clip_grad_norm=1.0, clip_norm_type=float("inf"), groups=[{"params": ["w"], "lr": 0.1}])
    assert opt.for_param("w").lr == 0.1 and opt.for_param("v").clip_grad_norm is None


def test_the_steps_comments_write_numpy_scalars_as_numbers_and_short_lines():
    net, t = sg.mlp([3, 4, 2], act=sg.relu), sp.MatrixSymbol("t", 2, 1)
    W1, b1, W2, b2 = net.params
    opt = sg.optim.AdamW(lr=1e-3, groups=[{"params": [b1, b2], "lr": np.float32(0.01)},
                                          {"params": [W2], "lr": np.float64(1e-4), "betas": (np.float64(0.5), 0.9)}],
                         clip_grad_norm=1.0, clip_grad_value=0.5)
    src = sg.compile(sg.mse(net.output, t), net.params, [net.input, t], optimizer=opt).source
    assert "(AdamW; groups[0]: lr=0.01)" in src
    assert "(AdamW; groups[1]: lr=0.0001, betas=(0.5, 0.9))" in src
    comments = [line for line in src.splitlines() if "update of p" in line]
    assert comments and not any("float" in line for line in comments), comments
    assert max(len(line) for line in src.splitlines() if "clip_grad_norm_" in line) < 120


def test_the_divergence_hint_names_a_groups_lr():
    from types import SimpleNamespace

    from symgrad.compiling.training import _growth_hint
    opt = sg.optim.SGD(lr=0.01, groups=[{"params": ["b"], "momentum": 0.5}, {"params": ["w"], "lr": np.float32(5.0)}])
    hint = _growth_hint(SimpleNamespace(spec=SimpleNamespace(optimizer=opt)), SimpleNamespace(loss=[1.0, 50.0]))
    assert "the learning rate (lr=0.01, groups[1]'s lr=5) is likely too large" in hint


@pytest.mark.parametrize("name, says", [("backend", "target='triton'"), ("device", "target='numpy' on the CPU")])
def test_compile_names_target_for_torch_compiles_backend(name, says):
    # torch.compile(model, backend=...) is the spelling PyTorch users bring; it was a bare
    # "unknown keyword argument 'backend'" naming nothing to use instead
    w, x = sp.symbols("w x")
    with pytest.raises(sg.ArgumentError, match=rf"compile\(\) takes no {name}=: .*{re.escape(says)}"):
        sg.compile((w * x - 1) ** 2, [w], [x], **{name: "triton"})
