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


def main(argv):
    net = sg.mlp([64, 64, 10], act=sg.relu)
    t = sp.MatrixSymbol("t", 10, 1)
    prog = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t], target="triton",
                      optimizer=sg.optim.Adam(lr=1e-3))
    if len(argv) > 1:
        prog.save(argv[1])
    else:
        print(prog.source)


if __name__ == "__main__":
    main(sys.argv)
