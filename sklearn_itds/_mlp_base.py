"""Feedforward network maths: activations, forward and backward passes.

Layout follows :class:`sklearn.neural_network.MLPClassifier`: ``coefs[i]`` has
shape ``(fan_in, fan_out)`` and ``intercepts[i]`` shape ``(fan_out,)``, so the
functions here also apply to a fitted ``MLPClassifier`` (its ``coefs_``,
``intercepts_``, ``activation`` and ``out_activation_``).
"""

import numpy as np
from scipy.special import expit, softmax

__all__ = ["ACTIVATIONS", "COMPILED_EPOCH_WORK", "OUTPUT_ACTIVATIONS",
           "SINGLE_THREAD_WORK", "backward", "largest_product", "forward",
           "glorot_init", "input_gradient", "log_loss", "loss_and_gradients"]


def _relu(Z):
    return np.maximum(Z, 0, out=Z)


ACTIVATIONS = {
    "identity": lambda Z: Z,
    "logistic": lambda Z: expit(Z, out=Z),
    "tanh": lambda Z: np.tanh(Z, out=Z),
    "relu": _relu,
}


def _derivative(activation, A, delta):
    """Multiply ``delta`` in place by the activation's derivative at output ``A``."""
    if activation == "logistic":
        delta *= A * (1 - A)
    elif activation == "tanh":
        delta *= 1 - A**2
    elif activation == "relu":
        np.multiply(delta, A > 0, out=delta)  # zero where the unit is off (A == 0)


def glorot_init(layer_sizes, activation, random_state):
    """Glorot-uniform weights and biases, drawn in MLPClassifier's order."""
    coefs, intercepts = [], []
    factor = 2.0 if activation == "logistic" else 6.0
    for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        bound = np.sqrt(factor / (fan_in + fan_out))
        coefs.append(random_state.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(random_state.uniform(-bound, bound, fan_out))
    return coefs, intercepts


def forward(X, coefs, intercepts, activation):
    """Layer activations ``[X, h_1, ..., h_L, logits]`` (logits not squashed)."""
    acts = [X]
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        Z = acts[-1] @ W
        Z += b
        if i < len(coefs) - 1:
            Z = ACTIVATIONS[activation](Z)
        acts.append(Z)
    return acts


def output_probabilities(logits, out_activation="softmax"):
    """Class probabilities from output pre-activations (copies)."""
    if out_activation == "logistic":
        p = expit(logits)
        return np.hstack([1 - p, p]) if p.shape[1] == 1 else p
    return softmax(logits, axis=1)


def backward(acts, coefs, grad_logits, activation, alpha, n_samples,
             input_grad=True):
    """Gradients of the batch loss given the gradient on the logits.

    ``grad_logits`` is already divided by ``n_samples``; the L2 term adds
    ``alpha * W / n_samples`` to each weight gradient, as in MLPClassifier.
    With sample weights, ``grad_logits`` rows carry ``weight / total weight``
    and ``n_samples`` is the total weight, again as in MLPClassifier.
    Returns ``(coef_grads, intercept_grads, grad_input)``; ``grad_input`` is
    None when ``input_grad=False`` (training does not need it, and it costs as
    much as a first-layer weight gradient).
    """
    n_layers = len(coefs)
    coef_grads, intercept_grads = [None] * n_layers, [None] * n_layers
    delta = grad_logits
    for i in range(n_layers - 1, -1, -1):
        coef_grads[i] = acts[i].T @ delta + (alpha / n_samples) * coefs[i]
        intercept_grads[i] = delta.sum(axis=0)
        if i == 0 and not input_grad:
            return coef_grads, intercept_grads, None
        delta = delta @ coefs[i].T
        if i > 0:
            _derivative(activation, acts[i], delta)
    return coef_grads, intercept_grads, delta


def log_loss(Y, P, sample_weight=None, out_activation="softmax"):
    """Mean cross-entropy of targets ``Y`` under probabilities ``P``.

    For a softmax output ``Y`` is one-hot; for logistic outputs (one unit per
    binary problem or per label) ``Y`` holds 0/1 per unit and the loss is the
    binary cross-entropy summed over units, as in MLPClassifier. With
    ``sample_weight`` the mean over samples is weighted.
    """
    eps = np.finfo(P.dtype).eps
    P = np.clip(P, eps, 1 - eps)
    if out_activation == "logistic":
        per_sample = -np.sum(Y * np.log(P) + (1 - Y) * np.log(1 - P), axis=1)
    elif sample_weight is None:
        return -np.sum(Y * np.log(P)) / P.shape[0]
    else:
        per_sample = -np.sum(Y * np.log(P), axis=1)
    return float(np.average(per_sample, weights=sample_weight))


OUTPUT_ACTIVATIONS = {
    "softmax": lambda Z: softmax(Z, axis=1),
    "logistic": expit,
}


def loss_and_gradients(X, Y, coefs, intercepts, activation, out_activation, alpha,
                       sample_weight=None):
    """Full-batch loss and its gradients, as MLPClassifier's L-BFGS objective.

    The loss is :func:`log_loss` plus ``0.5 * alpha * sum |W|^2 / n`` (``n``
    the number of rows, or their total weight); the gradients are
    ``coef_grads + intercept_grads`` (one list, coefficients first).
    """
    n_eff = X.shape[0] if sample_weight is None else float(np.sum(sample_weight))
    acts = forward(X, coefs, intercepts, activation)
    P = OUTPUT_ACTIVATIONS[out_activation](acts[-1])
    loss = log_loss(Y, P, sample_weight, out_activation)
    loss += 0.5 * alpha * sum(np.vdot(c, c) for c in coefs) / n_eff
    # the gradient on the output pre-activations is P - Y, per (weighted) row
    if sample_weight is None:
        grad_logits = (Y - P) / -X.shape[0]
    else:
        grad_logits = (Y - P) * -(sample_weight / np.sum(sample_weight))[:, None]
    coef_grads, intercept_grads, _ = backward(acts, coefs, grad_logits, activation,
                                              alpha, n_eff, input_grad=False)
    return loss, coef_grads + intercept_grads


def input_gradient(X, Y, coefs, intercepts, activation, out_activation="softmax"):
    """Per-sample gradient of the cross-entropy loss with respect to ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets: one-hot for a softmax output, 0/1 for a logistic one.
    coefs, intercepts : lists of ndarray
    activation : {"identity", "logistic", "tanh", "relu"}
    out_activation : {"softmax", "logistic"}

    Returns
    -------
    grad : ndarray of shape (n_samples, n_features)
        ``d loss_i / d x_i`` for each sample's own loss.
    """
    acts = forward(np.asarray(X, dtype=float), coefs, intercepts, activation)
    logits = acts[-1]
    P = expit(logits) if out_activation == "logistic" else softmax(logits, axis=1)
    # For softmax + cross-entropy and for logistic + binary cross-entropy alike,
    # the gradient on the output pre-activation is P - Y.
    _, _, grad = backward(acts, coefs, P - Y, activation, 0.0, 1)
    return grad



COMPILED_EPOCH_WORK = 2**22
"""Minibatch training whose largest product is at most this (about four
million multiply-adds: load_digits with (100,) hidden units and the default
batches of 200) runs each epoch in the compiled kernel where it applies, on
one BLAS thread. Fit time over MLPClassifier's on standardized digits, 50
epochs, 7 alternating pairs: 0.63 (0.53-2.26) at 2**22 against 0.94
(0.83-1.33) at the earlier 2**20, which left batches of 200 to numpy, on a
quiet machine (load 0.75); 0.27 (0.09-0.64) against 0.53 (0.36-1.01) with two
busy processes."""

SINGLE_THREAD_WORK = 2**20
"""Minibatch training whose largest product (``batch_size * fan_in *
fan_out``) is at most this (about a million multiply-adds, e.g. load_digits
with (100,) hidden units and batches of 64) runs on one BLAS thread without
probing: ``benchmarks/bench_mlp.py`` on the shared 2-core machine gave fit
ratios against MLPClassifier of 0.85-0.88 with one thread, and 1.1 to 2.2
with two busy processes when the thread count was probed (each switch can cost
a time slice there). Larger problems choose by timing
(:class:`sklearn_itds._threads.AdaptiveBlasThreads`)."""


def largest_product(batch_size, layer_sizes):
    """``batch_size * fan_in * fan_out`` of the largest layer."""
    return batch_size * max(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))
