"""Other libraries' names for symgrad's keywords (fourth-session trial): sg.optim.Adam(learning_rate=
1e-3) said only "unknown keyword argument 'learning_rate'" — difflib finds no 'lr' in it — and
epsilon=, beta1=, validation_data=, num_epochs= named nothing either."""
import pytest

import symgrad as sg
from symgrad.errors import ArgumentError


@pytest.mark.parametrize("kw, meant, why", [
    ({"learning_rate": 1e-3}, "lr", "Keras's and optax's name"),
    ({"epsilon": 1e-8}, "eps", "Keras's name"),
    ({"beta1": 0.9}, "betas", "betas=(β₁, β₂)"),
    ({"beta_2": 0.99}, "betas", "betas=(β₁, β₂)"),
])
def test_optimizer_keyword_from_another_library(kw, meant, why):
    with pytest.raises(ArgumentError, match=r"did you mean '%s'\?" % meant) as e:
        sg.optim.Adam(**kw)
    assert why in str(e.value)


@pytest.mark.parametrize("kw, meant", [({"validation_data": {}}, "validation"), ({"num_epochs": 3}, "epochs"),
                                       ({"n_epochs": 3}, "epochs")])
def test_train_keyword_from_another_library(kw, meant):
    with pytest.raises(ArgumentError, match=r"did you mean '%s'\?" % meant):
        sg.train(None, {}, **kw)


def test_torch_spelling_still_named():
    x = sg.tensor("x", (3, 4))
    with pytest.raises(ArgumentError, match=r"NumPy's name for torch's 'dim'"):
        sg.std(x, dim=1)              # another default (correction): named, not taken
    assert sg.softmax(x, dim=1) == sg.softmax(x, axis=1)      # F.softmax's dim= is taken (ninth session)
    assert sg.concat([x, x], dim=1) == sg.concat([x, x], axis=1)    # torch.cat's too
    with pytest.raises(ArgumentError, match=r"max\(dim=...\) is torch's, which returns a pair"):
        x.max(dim=1)                  # taken as axis=, torch's x.max(dim=1)[0] would be the first row
