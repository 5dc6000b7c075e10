"""symgrad: derive the gradients of networks declared in SymPy, print the steps, compile the step.

>>> import sympy as sp, symgrad as sg
>>> x, y, z = sp.symbols('x y z')
>>> sg.grad((x + y) * z, [x, y, z])
[z, z, x + y]
"""
from .core import lower_tensor as _lower_tensor  # noqa: F401 - registers the N-d tensor rows and handlers
from .core import lower_conv as _lower_conv  # noqa: F401 - registers the convolution and pooling rows
from .core import tri_rules as _tri_rules  # noqa: F401 - registers the triangular masks (tril, triu)
from .core.differentiate import grad, hessian, jacobian
from .core.evaluate import numeric
from .core.policy import Subgradients
from .errors import (ArgumentError, AxisError, BroadcastError, DataError, IntegerTensorError,
                     LabelRangeError, MixedArrayError, ParseError, ReshapeError, ShapeError, SymgradError,
                     UnsafeInputError, UnsupportedError, WrtError)
from .frontend.functions import gather, leaky_relu, relu, sigmoid, softplus
from .frontend.functions import (abs, elu, erf, exp, gelu, gelu_tanh, hardtanh, log, selu, silu,  # noqa: A004
                                 softsign, sqrt, tanh)
from .frontend.functions import acos, asin, atan, cos, cosh, sin, sinh, tan
from .frontend.tensor import (as_tensor, broadcast, concat, elementwise, embedding, max, mean, min,
                              one_hot, stack, sum, take, take_along_axis, tensor, var, where)
from .frontend.tensor_softmax import cross_entropy, log_softmax, logsumexp, softmax
from .frontend.conv import (avg_pool1d, avg_pool2d, conv1d, conv2d, flip, max_pool1d,
                            max_pool2d)
from .frontend.conv_sum import NotAConvolution, as_conv, from_indexed
from .frontend.conv_transpose import conv_transpose1d, conv_transpose2d
from .frontend.resize import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d,
                              adaptive_max_pool2d, interpolate)
from .frontend.tensor_pad import pad
from .frontend.tensor_norms import batch_norm, cosine_similarity, norm, normalize
# the losses on tensors take torch's reduction= (and axis=); on matrices they are functions' own
from .frontend.tensor_losses import (bce, bce_with_logits, binary_cross_entropy, binary_cross_entropy_with_logits,
                                     hinge, huber, kl_div, l1, mse, multi_margin, nll_loss, smooth_l1)
from .frontend.tensor_bounds import clip, maximum, minimum
from .frontend.tensor_pair_losses import (cdist, cosine_embedding_loss, margin_ranking_loss, pairwise_distance,
                                          triplet_margin_loss)
from .frontend.tensor_likelihoods import gaussian_nll_loss, poisson_nll_loss
from .frontend.tensor_topk import topk
from .frontend.tensor import std
from .frontend.tensor_tri import cumsum, eye, full, full_like, ones, ones_like, swapaxes, tril, triu, zeros, zeros_like
from .frontend.tensor_arange import arange
from .frontend.tensor_index_add import bincount, index_add, segment_sum
from .frontend import tensor_scatter as _tensor_scatter  # noqa: F401 - registers x.scatter (torch's)
from .frontend.grid_sample import affine_grid, grid_sample
from .frontend.torch_functional import (bilinear, celu, channel_shuffle, flatten, hardshrink, hinge_embedding_loss, huber_loss,
                                        l1_loss, mse_loss, multi_margin_loss, multilabel_soft_margin_loss,
                                        pixel_unshuffle, smooth_l1_loss, soft_margin_loss, softmin, softshrink,
                                        tanhshrink, threshold)
from .frontend.tensor_einsum import einsum
from .frontend.tensor_diagonal import diag, diagonal, trace
from .frontend.tensor_products import cumprod, prod
from .frontend.numpy_spellings import (amax, amin, broadcast_to, concatenate, dot, expand_dims, expm1, inner,
                                       linalg, log1p, logaddexp, matmul, moveaxis, outer, power, reshape, split,
                                       square, squeeze, tile, transpose, vdot)
from .frontend.numpy_spellings import chunk, exp2, hstack, log2, log10, negative, ravel, rsqrt, vstack
from .frontend.numpy_spellings import (hard_sigmoid, hard_swish, hard_tanh, log_sigmoid, soft_sign,  # jax.nn's
                                       standardize, swish)
from .frontend.tensor_layers import (group_norm, instance_norm, layer_norm, linear, rms_norm,
                                     scaled_dot_product_attention)
from .frontend.torch_activations import glu, hardsigmoid, hardswish, logsigmoid, mish, prelu, relu6
from .frontend.tensor_shapes import pixel_shuffle, repeat, repeat_interleave, roll, unfold
from .frontend.einops_patterns import rearrange, reduce  # noqa: A004 - einops' (sg.repeat takes its patterns)
from .frontend.layers import MLP, dense, mlp
from .frontend.masks import dropout, dropout1d, dropout2d, dropout3d
from .frontend.stop_gradient import stop_gradient
from .teaching.derivation import derive

__version__ = "0.1.0"

# Names defined in modules that import heavier things (the compiler, training, checking): loaded on
# first use, so ``import symgrad`` stays light and the core never imports a backend.
_LAZY = {
    # Module names differ from the functions: importing a submodule sets it as an attribute of the
    # package, so a module symgrad.check would shadow the function sg.check.
    "compile": "symgrad.compiling.compiler", "Program": "symgrad.compiling.compiler",
    "train": "symgrad.compiling.training", "History": "symgrad.compiling.training",
    "TrainingDiverged": "symgrad.compiling.training", "load_checkpoint": "symgrad.compiling.training",
    "EpochLog": "symgrad.compiling.training", "ScheduleEndsWarning": "symgrad.compiling.training",
    "ResumeSeedWarning": "symgrad.compiling.training", "ResumeDataWarning": "symgrad.compiling.training",
    "check": "symgrad.checking.verdict", "CheckResult": "symgrad.checking.verdict",
    "gradcheck": "symgrad.checking.programcheck",
    "check_backward": "symgrad.checking.backward", "BackwardError": "symgrad.checking.backward",
    "FunctionForwardError": "symgrad.checking.backward_errors",
    "optim": "symgrad.compiling.optim",
}


# other libraries' names for what symgrad spells otherwise: said in the AttributeError
_SPELLED = {
    "cat": "write sg.concat (torch.cat's)",
    "bmm": "write a @ b (batched over the leading axes)", "mm": "write a @ b",
    "softmax_cross_entropy_with_integer_labels": "optax's is sg.cross_entropy(logits, labels, reduction='none') "
                                                 "(labels an integer tensor, classes on the last axis)",
    "sigmoid_binary_cross_entropy": "optax's is sg.bce_with_logits(logits, labels, reduction='none')",
    "l2_loss": "optax's l2_loss(p, t) is 0.5 * (p - t)**2 (entry by entry); sg.mse(p, t) is their mean, unhalved",
    "nn": "jax.nn's functions are sg's own: sg.softmax, sg.log_softmax, sg.one_hot, sg.gelu, sg.silu, sg.relu, "
          "sg.logsumexp, sg.log_sigmoid ...",
    "lax": "jax.lax.stop_gradient is sg.stop_gradient",
    "softmax_cross_entropy": "optax's (one-hot or probability labels) is "
                             "-sg.sum(labels * sg.log_softmax(logits, axis=-1), axis=-1)",
    "randn_like": "a declaration draws no noise: declare it as an input, eps = sg.tensor('eps', shape), and "
                  "give fresh values (np.random.standard_normal) with each batch — a VAE's z = mu + eps * std; "
                  "sg.dropout and sg.dropout2d draw their masks themselves",
    "randn": "a declaration draws no noise: declare it as an input (sg.tensor('eps', shape)) and give fresh "
             "values with each batch; sg.dropout draws its masks itself",
    "embedding_bag": "F.embedding_bag(ids, E, mode='mean') is sg.embedding(E, ids).mean(axis=1) ('sum': .sum(axis=1), "
                     "'max': .max(axis=1)); per_sample_weights: multiply by them before the sum",
    "gumbel_softmax": "a declaration draws no noise: declare the Gumbel noise g as an input (-log(-log(u)), u uniform, "
                      "given with each batch) and write sg.softmax((logits + g) / tau, axis=-1)",
    "ctc_loss": "F.ctc_loss is not supported (its alignment sum is a dynamic program over the labels); "
                "cross_entropy with ignore_index= is, for aligned targets",
    "conv3d": "not supported: sg.conv1d and sg.conv2d are (and sg.interpolate(mode='trilinear'), sg.dropout3d)",
    "conv_transpose3d": "not supported: sg.conv_transpose1d and sg.conv_transpose2d are",
    "max_pool3d": "not supported: sg.max_pool1d and sg.max_pool2d are",
    "avg_pool3d": "not supported: sg.avg_pool1d and sg.avg_pool2d are",
    "alpha_dropout": "not supported; sg.dropout(x, p) (entries) and sg.dropout1d / dropout2d / dropout3d "
                     "(whole channels) are torch's F.dropout, F.dropout1d, F.dropout2d, F.dropout3d",
    "load": "a checkpoint (sg.train's checkpoint=, symgrad train --checkpoint) is read by sg.load_checkpoint(path)",
}


def __getattr__(name):
    mod = _LAZY.get(name)
    if mod is None:
        hint = ""
        if not name.startswith("__"):
            import difflib
            near = difflib.get_close_matches(name, __all__ + list(_LAZY), n=2, cutoff=0.8)
            hint = (f": {_SPELLED[name]}" if name in _SPELLED else
                    f" (did you mean {' or '.join('sg.' + n for n in near)}?)" if near else "")
        raise AttributeError(f"module 'symgrad' has no attribute {name!r}{hint}")
    import importlib
    m = importlib.import_module(mod)
    return m if name == "optim" else getattr(m, name)

__all__ = [
    "grad", "derive", "jacobian", "hessian", "numeric",
    "sigmoid", "relu", "leaky_relu", "softplus", "softmax", "log_softmax", "logsumexp", "sum",
    "elementwise", "mse", "l1", "hinge", "bce", "cross_entropy", "kl_div", "multi_margin", "dense", "mlp", "MLP",
    "dropout", "dropout1d", "dropout2d", "dropout3d", "gather", "stop_gradient",
    "tanh", "exp", "log", "sqrt", "abs", "erf", "sin", "cos", "tan", "sinh", "cosh", "asin", "acos", "atan", "gelu", "gelu_tanh", "silu", "elu", "selu", "softsign",
    "hardtanh", "clip", "maximum", "minimum", "std", "huber", "smooth_l1", "pairwise_distance", "cdist",
    "triplet_margin_loss", "topk", "cosine_embedding_loss", "margin_ranking_loss",
    "gaussian_nll_loss", "poisson_nll_loss",
    "check_backward", "BackwardError", "FunctionForwardError",
    "tensor", "as_tensor", "mean", "max", "min", "var", "concat", "stack", "where", "one_hot", "take",
    "take_along_axis", "embedding", "index_add", "segment_sum", "bincount", "rearrange", "reduce", "broadcast", "tril", "triu", "ones", "zeros", "eye", "ones_like", "zeros_like", "full_like", "arange", "grid_sample", "affine_grid",
    "bilinear", "celu", "channel_shuffle", "flatten", "hardshrink", "hinge_embedding_loss", "huber_loss", "l1_loss", "mse_loss",
    "multi_margin_loss", "multilabel_soft_margin_loss", "pixel_unshuffle", "smooth_l1_loss", "soft_margin_loss",
    "softmin", "softshrink", "tanhshrink", "threshold", "full", "swapaxes", "einsum", "diag", "diagonal", "trace", "prod", "cumprod",
    "matmul", "dot", "vdot", "inner", "outer", "square", "power", "log1p", "expm1", "rsqrt", "chunk", "logaddexp", "concatenate",
    "split", "reshape", "transpose", "moveaxis", "expand_dims", "squeeze", "broadcast_to", "tile", "amax", "amin",
    "linalg", "exp2", "log2", "log10", "negative", "ravel", "hstack", "vstack", "log_sigmoid", "swish", "hard_tanh",
    "hard_sigmoid", "hard_swish", "soft_sign", "standardize", "linear", "layer_norm", "rms_norm",
    "conv2d", "conv1d", "max_pool2d", "avg_pool2d", "max_pool1d", "avg_pool1d", "flip",
    "from_indexed", "as_conv", "NotAConvolution",
    "conv_transpose1d", "conv_transpose2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "interpolate", "pad", "batch_norm", "cosine_similarity",
    "norm", "normalize", "cumsum", "bce_with_logits", "binary_cross_entropy", "binary_cross_entropy_with_logits", "nll_loss",
    "group_norm", "instance_norm", "scaled_dot_product_attention", "glu", "hardsigmoid", "hardswish",
    "logsigmoid", "mish", "prelu", "relu6", "pixel_shuffle", "repeat", "repeat_interleave", "roll", "unfold",
    "AxisError", "BroadcastError", "ReshapeError", "MixedArrayError", "IntegerTensorError",
    "LabelRangeError", "ArgumentError", "DataError", "ParseError", "UnsafeInputError",
    "Subgradients", "SymgradError", "UnsupportedError", "ShapeError", "WrtError",
]
