"""sg.<a name another library uses>: the AttributeError says symgrad's spelling (it was Python's bare
"module 'symgrad' has no attribute 'cat'")."""
import pytest

import symgrad as sg


@pytest.mark.parametrize("name, said", [("cat", "sg.concat"), ("bmm", "a @ b"),
                                        ("softmax_cross_entropy_with_integer_labels",
                                         r"sg\.cross_entropy\(logits, labels, reduction='none'\)"),
                                        ("sofmax", r"did you mean sg\.softmax")])
def test_another_librarys_name_is_told_symgrads(name, said):
    with pytest.raises(AttributeError, match=said):
        getattr(sg, name)


def test_hasattr_and_unknown_names_still_answer_plainly():
    assert not hasattr(sg, "cat") and hasattr(sg, "concat")
    with pytest.raises(AttributeError, match=r"^module 'symgrad' has no attribute 'zzz'$"):
        sg.zzz
