"""Stochastic optimizers that update a list of arrays in place.

The update rules are those documented for
:class:`sklearn.neural_network.MLPClassifier` (SGD with momentum and Adam).
"""

import weakref

import numpy as np

__all__ = ["Adam", "SGD", "make_optimizer"]


class SGD:
    """Stochastic gradient descent with (Nesterov) momentum.

    ``lr_schedule`` is MLPClassifier's ``learning_rate``: ``"constant"``;
    ``"invscaling"``, where :meth:`iteration_ends` sets the step to
    ``learning_rate_init / (t + 1) ** power_t`` after each epoch (``t`` the
    number of samples seen); or ``"adaptive"``, where :meth:`trigger_stopping`
    divides the step by 5 instead of stopping, until it falls to 1e-6.
    """

    def __init__(self, params, learning_rate, momentum=0.9, nesterov=True,
                 lr_schedule="constant", power_t=0.5):
        self.learning_rate_init = learning_rate
        self.learning_rate = float(learning_rate)
        self.momentum = momentum
        self.nesterov = nesterov
        self.lr_schedule = lr_schedule
        self.power_t = power_t
        self.velocities = [np.zeros_like(p) for p in params]

    def iteration_ends(self, time_step):
        """End of an epoch after ``time_step`` samples: the invscaling step."""
        if self.lr_schedule == "invscaling":
            self.learning_rate = (float(self.learning_rate_init)
                                  / (time_step + 1) ** self.power_t)

    def trigger_stopping(self, msg, verbose):
        """Whether to stop when the loss stalls; "adaptive" shrinks the step first."""
        if self.lr_schedule != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + " Setting learning rate to %f" % self.learning_rate)
        return False

    def update(self, params, grads):
        for p, g, v in zip(params, grads, self.velocities):
            v *= self.momentum
            v -= self.learning_rate * g
            if self.nesterov:
                p += self.momentum * v - self.learning_rate * g
            else:
                p += v


_SCRATCH = weakref.WeakKeyDictionary()  # Adam instance -> its two work arrays


class Adam:
    """Adam (Kingma & Ba, 2014) with bias-corrected step size.

    The moments of all parameters live in two flat arrays (``ms`` and ``vs``
    are views of them), so one update is a dozen whole-array operations on the
    concatenated gradient instead of a dozen per parameter: the arithmetic is
    elementwise and identical, only the per-call overhead goes. ``scales``
    multiplies the step of each parameter (the MLP's echo learns
    ``td_timescale`` times slower inside the network's own update).
    """

    def __init__(self, params, learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 scales=None):
        self.learning_rate_init = learning_rate
        # scales: one step-size multiplier per parameter (None: all 1), so one
        # update can serve a network and its slower echo together.
        self._scaled = [] if scales is None else [
            (i, float(c)) for i, c in enumerate(scales) if c != 1]
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self._shapes = [np.shape(p) for p in params]
        self._bounds = np.cumsum([0] + [int(np.size(p)) for p in params]).tolist()
        dtype = np.result_type(*params) if params else np.float64
        self._m = np.zeros(self._bounds[-1], dtype=dtype)
        self._v = np.zeros(self._bounds[-1], dtype=dtype)

    @property
    def learning_rate(self):
        """The base step size (Adam has no schedule)."""
        return self.learning_rate_init

    @learning_rate.setter
    def learning_rate(self, value):
        self.learning_rate_init = value

    def iteration_ends(self, time_step):
        """Adam has no per-epoch schedule."""

    def trigger_stopping(self, msg, verbose):
        """Adam stops when the loss stalls."""
        if verbose:
            print(msg + " Stopping.")
        return True

    def _scratch(self):
        # Two work arrays of the parameters' size, kept between updates: a
        # fresh megabyte-sized array per update costs page faults that took
        # longer than the arithmetic (3x slower for a (256, 256) network).
        # Held outside the instance: scratch space is not state to pickle.
        buffers = _SCRATCH.get(self)
        if buffers is None:
            buffers = _SCRATCH[self] = (np.empty_like(self._m), np.empty_like(self._m))
        return buffers

    def _views(self, flat):
        return [flat[a:b].reshape(shape) for a, b, shape in
                zip(self._bounds[:-1], self._bounds[1:], self._shapes)]

    @property
    def ms(self):
        """First moments, one array per parameter (views)."""
        return self._views(self._m)

    @property
    def vs(self):
        """Second moments, one array per parameter (views)."""
        return self._views(self._v)

    def update(self, params, grads):
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        lr = (self.learning_rate_init * np.sqrt(1 - b2**self.t) / (1 - b1**self.t))
        m, v = self._m, self._v
        g, tmp = self._scratch()
        for a, b, grad in zip(self._bounds[:-1], self._bounds[1:], grads):
            g[a:b] = np.ravel(grad)
        # The same operations, in the same order, as
        # m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= lr m / (sqrt(v) + eps)
        np.multiply(g, 1 - b1, out=tmp)
        m *= b1
        m += tmp
        np.multiply(g, g, out=tmp)
        tmp *= 1 - b2
        v *= b2
        v += tmp
        np.sqrt(v, out=tmp)
        tmp += self.epsilon
        np.multiply(m, lr, out=g)
        for i, c in self._scaled:
            g[self._bounds[i]:self._bounds[i + 1]] *= c
        g /= tmp
        for p, step in zip(params, self._views(g)):
            p -= step


def make_optimizer(estimator, params, learning_rate, scales=None):
    """The optimizer named by ``estimator.solver`` for ``params``.

    ``scales`` (Adam only) multiplies each parameter's step."""
    if estimator.solver == "sgd":
        return SGD(params, learning_rate, estimator.momentum,
                   estimator.nesterovs_momentum, estimator.learning_rate,
                   estimator.power_t)
    return Adam(params, learning_rate, estimator.beta_1, estimator.beta_2,
                estimator.epsilon, scales)
