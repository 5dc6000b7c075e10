"""Print (or write) the Triton module generated for the 64-64-10 MLP training step.

    PYTHONPATH=. python examples/triton_mlp_source.py docs/triton_mlp_64_64_10.py.txt

relu hidden layer, softmax cross-entropy, Adam (lr 1e-3). The generated text is the same with or
without a GPU; without one the program is built for Triton's CPU interpreter.
"""
import os
import sys

os.environ.setdefault("TRITON_INTERPRET", "1")      # only used when there is no GPU

import sympy as sp  # noqa: E402

import symgrad as sg  # noqa: E402


def adam():
    Adam = getattr(sg.optim, "Adam", None)
    if Adam is not None:
        return Adam(lr=1e-3)
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "codegen"))
    from test_triton_backend import _adam      # the same rules, until symgrad.optim.Adam lands
    a = _adam()
    a.lr = 1e-3
    return a


def main(argv):
    net = sg.mlp([64, 64, 10], act=sg.relu)
    t = sp.MatrixSymbol("t", 10, 1)
    prog = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t], target="triton",
                      optimizer=adam())
    if len(argv) > 1:
        prog.save(argv[1])
    else:
        print(prog.source)


if __name__ == "__main__":
    main(sys.argv)
