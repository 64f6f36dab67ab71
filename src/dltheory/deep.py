"""Deep ReLU networks trained for binary classification, the setting of Zou et al. (2020), Chapter 1.

The network is f(x) = v^T relu(W_L relu(... relu(W_1 x))) with L hidden layers of width m, He initialization
``W_l ~ N(0, 2/m)`` and an output layer v of fixed signs +-1, as in Zou, Cao, Zhou and Gu (2020), who train the
hidden layers only. `train_deep` runs gradient descent or SGD on the logistic loss
``(1/n) sum_i log(1 + exp(-y_i f(x_i)))`` (or the exponential loss) and records what the theorem is about: the training error, and how
far each layer's weights move relative to their start, ``||W_l(k) - W_l(0)||_2 / ||W_l(0)||_2``, which shrinks
like m^(-1/2), and the largest distance ``max_k ||W_l(k) - W_l(0)||_2`` reached along the way, the radius of the
perturbation region around the initialization that the iterates stay in. `steps_to_loss` reads off when a loss curve
first reaches a level, to compare gradient descent with SGD.

Section of Chapter 1 served here: "Deep networks" (eq-deep-relu, thm-zou).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from dltheory.checks import DTYPE, check_integer, check_positive


def deep_relu(d: int, m: int, depth: int, *, generator: torch.Generator | None = None,
              dtype: torch.dtype = DTYPE) -> nn.Sequential:
    """The deep ReLU network of Zou et al. (2020) at initialization, as an `nn.Sequential`.

    Chapter 1, Sec. "Deep networks", eq. (eq-deep-relu): `depth` hidden layers ``Linear(., m, bias=False)``
    followed by ReLU, with weights ``N(0, 2/m)`` (He initialization), then an output ``Linear(m, 1)`` whose
    weights are signs +-1, drawn once and frozen. Its output is of order one for unit-norm inputs, and its
    tangent kernel over the hidden layers is of order m, so the step size of gradient descent is of order 1/m.
    A plain chain of Linear and ReLU, so `dltheory.ntk.empirical_ntk` takes its fast path.

    Args:
        d: the input dimension, a positive integer.
        m: the width of every hidden layer, a positive integer.
        depth: L, the number of hidden layers, a positive integer.
        generator: the random stream of the weights; torch's global one when None.
        dtype: of the parameters.

    Raises:
        ValueError: if d, m or depth is not a positive integer.
    """
    d, m = check_integer("d", d, minimum=1), check_integer("m", m, minimum=1)
    depth = check_integer("depth", depth, minimum=1)
    layers: list[nn.Module] = []
    fan_in = d
    for _ in range(depth):
        linear = nn.Linear(fan_in, m, bias=False, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(math.sqrt(2 / m) * torch.randn(m, fan_in, generator=generator, dtype=dtype))
        layers += [linear, nn.ReLU()]
        fan_in = m
    output = nn.Linear(m, 1, bias=False, dtype=dtype)
    with torch.no_grad():
        output.weight.copy_(2.0 * torch.randint(0, 2, (1, m), generator=generator).to(dtype) - 1.0)
    output.weight.requires_grad_(False)
    return nn.Sequential(*layers, output)


@dataclass(frozen=True)
class DeepTraining:
    """What `train_deep` records; step k = 0 is the initialization.

    Attributes:
        loss: the training loss on the whole training set, shape (steps + 1,).
        errors: the number of misclassified training examples (y_i f(x_i) <= 0), shape (steps + 1,), int64.
        movement: ``||W_l(k) - W_l(0)||_2 / ||W_l(0)||_2`` at the last step, one entry per hidden layer, shape (L,).
        radius: ``max_k ||W_l(k) - W_l(0)||_2`` over the run, one entry per hidden layer, shape (L,): the smallest
            spectral ball around the initialization that holds every iterate of that layer.
        model: the trained network, a copy; the network passed to `train_deep` is left unchanged.
    """

    loss: torch.Tensor
    errors: torch.Tensor
    movement: torch.Tensor
    radius: torch.Tensor
    model: nn.Sequential


LOSSES: tuple[str, ...] = ("logistic", "exponential")


def classification_loss(margins: torch.Tensor, loss: str = "logistic") -> torch.Tensor:
    """The mean of ``log(1 + exp(-z))`` ("logistic") or ``exp(-z)`` ("exponential") over the margins z = y f(x).

    Chapter 1, Sec. "Deep networks", thm-zou: two losses of the family of Zou et al. (2020), both non-increasing
    and smooth, with ``-l'`` bounded below by a power of the loss where the loss is small.

    Raises:
        ValueError: if loss is not one of `LOSSES`.
    """
    if loss == "logistic":
        return nn.functional.softplus(-margins).mean()
    if loss == "exponential":
        return torch.exp(-margins).mean()
    raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")


def train_deep(model: nn.Sequential, X: torch.Tensor, y: torch.Tensor, eta: float, steps: int, *,
               loss: Literal["logistic", "exponential"] = "logistic", batch_size: int | None = None,
               generator: torch.Generator | None = None) -> DeepTraining:
    """Train the hidden layers of a copy of `model` on a classification loss by gradient descent or SGD.

    Chapter 1, Sec. "Deep networks" (Zou et al. 2020): ``W_l <- W_l - eta grad_l L_B`` for every trained layer,
    with ``L_B = (1/b) sum_{i in B} l(y_i f(x_i))`` (`classification_loss`) on the whole training set (gradient descent) or
    on `batch_size` examples drawn without replacement at each step (SGD). The spectral norms are those of the
    weight matrices, so `movement` and `radius` measure how far the iterates leave the initialization in the norm of
    the perturbation region of the proof. The spectral distance along the way is followed by one step of power
    iteration per update, warm-started from the previous step's vector (a lower bound that tracks the top singular
    value because the displacement changes little per step); at the last step it is computed exactly.

    Args:
        model: a network from `deep_relu` (any `nn.Sequential` whose trainable parameters are weight matrices).
        X: inputs, shape (n, d), of the model's dtype.
        y: labels in {-1, +1}, shape (n,).
        eta: the step size, positive.
        steps: the number of updates, a non-negative integer.
        loss: "logistic" or "exponential".
        batch_size: None for gradient descent, else an integer in 1..n.
        generator: the random stream of the mini-batches; torch's global one when None.

    Raises:
        TypeError: if model is not an `nn.Sequential` or X, y are not floating-point tensors.
        ValueError: if shapes, labels, eta, steps, loss or batch_size are out of range.
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be an nn.Sequential, got {type(model).__name__}")
    for name, value in (("X", X), ("y", y)):
        if not isinstance(value, torch.Tensor) or not value.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got {type(value).__name__}")
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X must have shape (n, d) with n >= 1, got {tuple(X.shape)}")
    n = X.shape[0]
    if y.shape != (n,) or not bool(((y == 1) | (y == -1)).all()):
        raise ValueError(f"y must have shape ({n},) with entries -1 or +1")
    eta = check_positive("eta", eta)
    steps = check_integer("steps", steps, minimum=0)
    classification_loss(X.new_zeros(1), loss)  # names a wrong loss before training
    if batch_size is not None:
        batch_size = check_integer("batch_size", batch_size, minimum=1)
        if batch_size > n:
            raise ValueError(f"batch_size must be None or an integer in 1..{n}, got {batch_size}")
    trained = copy.deepcopy(model)
    weights = [p for p in trained.parameters() if p.requires_grad]
    start = [w.detach().clone() for w in weights]
    directions = [torch.ones(w.shape[1], dtype=w.dtype) / math.sqrt(w.shape[1]) for w in weights]
    radius = X.new_zeros(len(weights))
    values, errors = X.new_empty(steps + 1), torch.empty(steps + 1, dtype=torch.int64)
    X, y = X.detach(), y.detach().to(X.dtype)
    for k in range(steps + 1):
        with torch.no_grad():
            margins = y * trained(X).squeeze(1)
            values[k] = classification_loss(margins, loss)
            errors[k] = int((margins <= 0).sum())
        if k == steps:
            break
        rows = slice(None) if batch_size is None else torch.randperm(n, generator=generator)[:batch_size]
        batch_loss = classification_loss(y[rows] * trained(X[rows]).squeeze(1), loss)
        gradients = torch.autograd.grad(batch_loss, weights)
        with torch.no_grad():
            for l, (w, w0, g) in enumerate(zip(weights, start, gradients)):
                w -= eta * g
                image = (w - w0) @ directions[l]                       # ||D v|| <= ||D||_2 for a unit v
                radius[l] = torch.maximum(radius[l], image.norm())
                power = (w - w0).T @ image
                if float(power.norm()) > 0:
                    directions[l] = power / power.norm()
    with torch.no_grad():
        distance = torch.stack([torch.linalg.matrix_norm(w - w0, ord=2) for w, w0 in zip(weights, start)])
        movement = distance / torch.stack([torch.linalg.matrix_norm(w0, ord=2) for w0 in start])
    return DeepTraining(loss=values, errors=errors, movement=movement, radius=torch.maximum(radius, distance),
                        model=trained)


def steps_to_loss(loss: torch.Tensor, level: float) -> float:
    """The (fractional) step at which a recorded loss curve first falls to `level`.

    Chapter 1, Sec. "Deep networks": the iteration count that thm-zou bounds, read off a run of `train_deep` as a
    continuous quantity, so that gradient descent and SGD can be compared to better than one step. Between the
    last step above the level and the first at or below it, ``log loss`` is interpolated linearly.

    Args:
        loss: the loss at steps 0, 1, ..., shape (steps + 1,), positive.
        level: the loss level, positive.

    Raises:
        ValueError: if loss is not a positive 1-D tensor, or level is not positive or never reached.
    """
    level = check_positive("level", level)
    if not isinstance(loss, torch.Tensor) or loss.ndim != 1 or not bool((loss > 0).all()):
        raise ValueError("loss must be a 1-D tensor of positive values")
    below = (loss <= level).nonzero()
    if len(below) == 0:
        raise ValueError(f"level {level} is never reached: the smallest loss is {float(loss.min()):.4g}")
    k = int(below[0])
    if k == 0:
        return 0.0
    upper, lower = math.log(float(loss[k - 1])), math.log(float(loss[k]))
    return k - 1 + (upper - math.log(level)) / (upper - lower)
