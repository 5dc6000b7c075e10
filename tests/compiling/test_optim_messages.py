"""The messages around the optimizer's groups= and clipping: a step option given to the wrong
function, a bad value inside a group, a norm type without a norm."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ArgumentError
from symgrad.frontend.keywords import check_keywords

w, x = sp.symbols("w x")


def test_compile_groups_points_to_the_optimizer():
    with pytest.raises(ArgumentError, match=r"compile\(\) got the keyword argument 'groups': parameter groups "
                                            r"are an option of the optimizer") as e:
        sg.compile((w * x) ** 2, [w], [x], groups=[{"params": [w], "lr": 0.1}])
    assert "outputs" not in str(e.value)


@pytest.mark.parametrize("kw", ["groups", "clip_grad_norm", "clip_grad_value"])
def test_train_step_options_point_to_sg_compile(kw):
    prog = sg.compile((w * x) ** 2, [w], [x])
    with pytest.raises(ArgumentError, match=rf"train\(\) got the keyword argument '{kw}': .* an option of the "
                                            r"optimizer given to sg.compile"):
        sg.train(prog, {"x": np.ones(4)}, values={"w": np.array(1.0)}, progress=False, **{kw: 1.0})


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
