"""The front end: what people declare networks with.

- `functions`: sigmoid, relu, leaky_relu, softplus, softmax, log_softmax, logsumexp, sum, gather,
  `elementwise`, and the losses (mse, l1, hinge, bce, cross_entropy, kl_div) — SymPy functions with
  ``fdiff``, so SymPy itself prints and differentiates them (gathered there from `elementwise_map`,
  `activations`, `matrix_functions`, `xlogy`, `matrix_losses`);
- `layers`: `dense` and `mlp`, networks as SymPy expressions;
- `masks`: dropout masks;
- `tensor`: N-d tensors with NumPy semantics (`sg.tensor`, broadcasting, ``@``), with its array
  functions by topic in `tensor_reduce` (``axis=`` reductions), `tensor_movement` (reshape, permute,
  concat, stack, broadcast) and `tensor_index` (slicing, where, take, one_hot, gather);
  `tensor_softmax`: softmax, log_softmax, logsumexp and cross_entropy over an axis; `tensor_losses`: torch's losses with ``reduction=``
  (mse, l1, bce, hinge, huber, smooth_l1, kl_div, multi_margin); `tensor_bounds`: clip, maximum,
  minimum; `tensor_layers`: torch.nn.functional's linear and layer_norm, as compositions.

May import: `symgrad.errors` only. Everything else in symgrad comes after it.
"""
