"""The main demo: declare a network in lecture notation, derive its gradients, print the program.

    python3 examples/demo.py
"""
import sympy as sp

import symgrad as sg

# The sigmoid neuron of the lecture notes: f = σ(w0·x0 + w1·x1 + w2).
w0, w1, w2, x0, x1 = sp.symbols("w0 w1 w2 x0 x1")
f = sg.sigmoid(w0 * x0 + w1 * x1 + w2)
d = sg.derive(f, [w0, w1, w2, x0, x1])
print("The sigmoid neuron, f =", f)
print(d)
at = {"w0": 2, "w1": -3, "w2": -3, "x0": -1, "x1": -2}
vals = d.values(at)
print(f"at w = (2, -3, -3), x = (-1, -2): f = {vals['f']:.2f}, gradient =",
      ", ".join(f"{g:.2f}" for g in vals["gradients"]))
print("\nThe straight-line program (common subexpressions computed once):")
print(d.program)

# A layer in matrix form: L = ½‖tanh(W·x + b) − y‖².
net = sg.mlp([3, 4, 2], act=sp.tanh)
y = sp.MatrixSymbol("y", 2, 1)
L = sg.mse(net.output, y)
print("\nA 3-4-2 tanh MLP with squared loss:", L)
for p, g in zip(net.params, sg.grad(L, net.params)):
    print(f"  ∂L/∂{p} =", g)
