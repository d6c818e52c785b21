"""Stochastic optimizers that update a list of arrays in place.

The update rules are those documented for
:class:`sklearn.neural_network.MLPClassifier` (SGD with momentum and Adam).
"""

import numpy as np

__all__ = ["Adam", "SGD", "make_optimizer"]


class SGD:
    """Stochastic gradient descent with (Nesterov) momentum."""

    def __init__(self, params, learning_rate, momentum=0.9, nesterov=True):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.nesterov = nesterov
        self.velocities = [np.zeros_like(p) for p in params]

    def update(self, params, grads):
        for p, g, v in zip(params, grads, self.velocities):
            v *= self.momentum
            v -= self.learning_rate * g
            if self.nesterov:
                p += self.momentum * v - self.learning_rate * g
            else:
                p += v


class Adam:
    """Adam (Kingma & Ba, 2014) with bias-corrected step size."""

    def __init__(self, params, learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.learning_rate_init = learning_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.ms = [np.zeros_like(p) for p in params]
        self.vs = [np.zeros_like(p) for p in params]

    def update(self, params, grads):
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        lr = (self.learning_rate_init * np.sqrt(1 - b2**self.t) / (1 - b1**self.t))
        for p, g, m, v in zip(params, grads, self.ms, self.vs):
            # In place, with two scratch arrays; the same operations, in the
            # same order, as p -= lr m / (sqrt(v) + eps), so bit for bit equal.
            tmp = np.multiply(g, 1 - b1)
            m *= b1
            m += tmp
            np.multiply(g, g, out=tmp)
            tmp *= 1 - b2
            v *= b2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp += self.epsilon
            step = np.multiply(m, lr)
            step /= tmp
            p -= step


def make_optimizer(estimator, params, learning_rate):
    """The optimizer named by ``estimator.solver`` for ``params``."""
    if estimator.solver == "sgd":
        return SGD(params, learning_rate, estimator.momentum,
                   estimator.nesterovs_momentum)
    return Adam(params, learning_rate, estimator.beta_1, estimator.beta_2,
                estimator.epsilon)
