"""Plain data between the grader and a submission's sandbox (README, "Grade labs").

The grader and the sandboxed student process exchange JSON only: None, bools, ints, floats (NaN and the
infinities included), strings and lists are JSON's own; everything else is a tagged object ``{"$": tag, ...}``.
`decode` rebuilds values with strict types and never calls a method of an object it did not build itself, so a
student's reply is numbers, strings and containers, however the student's objects behave.

Tags that may come back from a student (``plain=True``): tuple, dict (string keys), tensor and ndarray (dtype from
`DTYPES`, a shape, a flat list of numbers), npscalar, and sequential (a torch ``nn.Sequential`` of ``nn.Linear``
and ``nn.ReLU`` layers, rebuilt by the decoder from its weights). Tags that only the grader sends into the sandbox
(``plain=False``): the lab objects a test passes to a student's function (quadratic, twolayer, hexapawn,
tictactoe, randomtree) and functions named in `FUNCTIONS`.

This file is copied into the sandbox, so it imports only the standard library at module level.
"""

from __future__ import annotations

import json
import math
from typing import Any

#: The array dtypes a value may have, as torch and numpy name them.
DTYPES = ("float64", "float32", "int64", "int32", "bool")
MAX_DEPTH = 32
MAX_ITEMS = 5_000_000  # numbers in one message

#: The functions a test may pass to a student's function, by name (built lazily: torch is imported on demand).
FUNCTION_NAMES = ("torch.relu", "torch.tanh", "torch.sin", "torch.erf", "torch.sigmoid",
                  "torch.nn.functional.gelu", "torch.nn.functional.silu", "torch.nn.functional.softsign",
                  "dltheory.activations.identity")


class DecodeError(ValueError):
    """A message that is not plain data of the allowed shapes."""


def _functions() -> dict[str, Any]:
    import torch
    import torch.nn.functional as F

    from dltheory.activations import get_activation

    return {"torch.relu": torch.relu, "torch.tanh": torch.tanh, "torch.sin": torch.sin, "torch.erf": torch.erf,
            "torch.sigmoid": torch.sigmoid, "torch.nn.functional.gelu": F.gelu, "torch.nn.functional.silu": F.silu,
            "torch.nn.functional.softsign": F.softsign, "dltheory.activations.identity": get_activation("linear")}


# ------------------------------------------------------------------------------------------------ encoding


def _array(tag: str, dtype: str, shape: list[int], data: list) -> dict:
    return {"$": tag, "dtype": dtype, "shape": shape, "data": data}


def encode(value: Any, depth: int = 0) -> Any:
    """`value` as JSON-ready plain data; raises TypeError for a type the protocol does not carry."""
    if depth > MAX_DEPTH:
        raise TypeError("the value is nested too deeply")
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        return value
    if type(value) is list:
        return [encode(item, depth + 1) for item in value]
    if type(value) is tuple:
        return {"$": "tuple", "items": [encode(item, depth + 1) for item in value]}
    if type(value) is dict:
        if not all(type(key) is str for key in value):
            raise TypeError("only dicts with string keys can be sent")
        return {"$": "dict", "items": {key: encode(item, depth + 1) for key, item in value.items()}}
    module = type(value).__module__.split(".")[0]
    if module == "numpy":
        import numpy as np

        if isinstance(value, np.ndarray):
            dtype = str(value.dtype)
            if dtype not in DTYPES:
                raise TypeError(f"numpy arrays of dtype {dtype} cannot be sent (allowed: {', '.join(DTYPES)})")
            return _array("ndarray", dtype, list(value.shape), np.asarray(value).ravel().tolist())
        if isinstance(value, np.generic):
            dtype = str(value.dtype)
            if dtype not in DTYPES:
                raise TypeError(f"numpy scalars of dtype {dtype} cannot be sent")
            return {"$": "npscalar", "dtype": dtype, "value": value.item()}
    if module == "torch" or module == "dltheory":
        return _encode_torch(value, depth)
    if callable(value):
        for name, function in _functions().items():
            if value is function:
                return {"$": "function", "name": name}
        raise TypeError(f"the function {getattr(value, '__name__', value)!r} cannot be sent")
    raise TypeError(f"values of type {type(value).__name__} cannot be sent")


def _encode_torch(value: Any, depth: int) -> Any:
    import torch
    from torch import nn

    if isinstance(value, torch.Tensor):
        tensor = torch.Tensor.detach(value).cpu().as_subclass(torch.Tensor)
        dtype = str(tensor.dtype).removeprefix("torch.")
        if dtype not in DTYPES:
            raise TypeError(f"tensors of dtype {dtype} cannot be sent (allowed: {', '.join(DTYPES)})")
        return _array("tensor", dtype, list(tensor.shape), tensor.reshape(-1).tolist())
    from dltheory.games import Hexapawn, RandomTree, TicTacToe
    from dltheory.quadratic import Quadratic
    from dltheory.twolayer import TwoLayerReLU

    if type(value) is Quadratic:
        return {"$": "quadratic", "A": encode(value.A), "b": encode(value.b)}
    if type(value) is TwoLayerReLU:
        return {"$": "twolayer", "W": encode(value[0].weight), "out": encode(value[2].weight)}
    if type(value) is Hexapawn:
        return {"$": "hexapawn", "size": value.size, "board": value.board, "to_move": value.to_move}
    if type(value) is TicTacToe:
        return {"$": "tictactoe", "board": value.board}
    if type(value) is RandomTree:
        return {"$": "randomtree", "branching": value.branching, "depth": value.depth, "seed": value.seed,
                "ordering": value.ordering, "path": list(value.path), "value": value.value,
                "window": list(value.window)}
    if type(value) is nn.Sequential:
        layers = []
        for layer in value:
            if type(layer) is nn.Linear:
                bias = None if layer.bias is None else encode(layer.bias)
                layers.append({"linear": encode(layer.weight), "bias": bias})
            elif type(layer) is nn.ReLU:
                layers.append({"relu": True})
            else:
                raise TypeError(f"an nn.Sequential may hold only nn.Linear and nn.ReLU layers, not "
                                f"{type(layer).__name__}")
        return {"$": "sequential", "layers": layers}
    raise TypeError(f"values of type {type(value).__name__} cannot be sent")


def dumps(value: Any) -> bytes:
    """`encode(value)` as UTF-8 JSON."""
    return json.dumps(encode(value), allow_nan=True, separators=(",", ":")).encode("utf-8")


# ------------------------------------------------------------------------------------------------ decoding


class _Budget:
    def __init__(self) -> None:
        self.items = 0

    def spend(self, count: int) -> None:
        self.items += count
        if self.items > MAX_ITEMS:
            raise DecodeError(f"the message holds more than {MAX_ITEMS} values")


def _numbers(data: Any, dtype: str, shape: Any, budget: _Budget) -> tuple[list, list[int]]:
    if type(shape) is not list or not all(type(n) is int and 0 <= n for n in shape) or len(shape) > 8:
        raise DecodeError(f"an array's shape must be a list of at most 8 non-negative ints, got {shape!r}")
    if type(data) is not list:
        raise DecodeError("an array's data must be a flat list")
    size = math.prod(shape)
    if len(data) != size:
        raise DecodeError(f"an array of shape {tuple(shape)} needs {size} values, got {len(data)}")
    budget.spend(size)
    if dtype == "bool":
        allowed: tuple[type, ...] = (bool,)
    elif dtype.startswith("int"):
        allowed = (int,)
    else:
        allowed = (int, float)
    if not all(type(item) in allowed for item in data):
        raise DecodeError(f"the data of a {dtype} array must be {' or '.join(t.__name__ for t in allowed)}s")
    if dtype.startswith("int") and not all(-(2**63) <= item < 2**63 for item in data):
        raise DecodeError("an integer array's values must fit in 64 bits")
    return data, shape


def _check_keys(obj: dict, keys: set[str]) -> None:
    if set(obj) != keys:
        raise DecodeError(f"a {obj.get('$')!r} value must have exactly the fields {sorted(keys)}, got {sorted(obj)}")


def decode(value: Any, *, plain: bool, depth: int = 0, budget: _Budget | None = None) -> Any:
    """The value that `encode` encoded, built from parsed JSON with strict types.

    With ``plain`` (a student's reply) only containers, numbers, strings, arrays and ReLU networks are accepted.

    Raises:
        DecodeError: naming what is wrong with the message.
    """
    budget = budget or _Budget()
    if depth > MAX_DEPTH:
        raise DecodeError("the value is nested too deeply")
    budget.spend(1)
    if value is None or type(value) in (bool, int, float, str):
        if type(value) is int and not -(2**63) <= value < 2**63:
            raise DecodeError("integers must fit in 64 bits")
        return value
    if type(value) is list:
        return [decode(item, plain=plain, depth=depth + 1, budget=budget) for item in value]
    if type(value) is not dict or type(value.get("$")) is not str:
        raise DecodeError(f"unexpected {type(value).__name__} in the message")
    tag = value["$"]
    sub = dict(plain=plain, depth=depth + 1, budget=budget)
    if tag == "tuple":
        _check_keys(value, {"$", "items"})
        if type(value["items"]) is not list:
            raise DecodeError("a tuple's items must be a list")
        return tuple(decode(item, **sub) for item in value["items"])
    if tag == "dict":
        _check_keys(value, {"$", "items"})
        if type(value["items"]) is not dict:
            raise DecodeError("a dict's items must be an object")
        return {key: decode(item, **sub) for key, item in value["items"].items()}
    if tag in ("tensor", "ndarray"):
        _check_keys(value, {"$", "dtype", "shape", "data"})
        dtype = value["dtype"]
        if dtype not in DTYPES:
            raise DecodeError(f"an array's dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        data, shape = _numbers(value["data"], dtype, value["shape"], budget)
        if tag == "ndarray":
            import numpy as np

            return np.array(data, dtype=dtype).reshape(shape)
        import torch

        return torch.tensor(data, dtype=getattr(torch, dtype)).reshape(shape)
    if tag == "npscalar":
        _check_keys(value, {"$", "dtype", "value"})
        if value["dtype"] not in DTYPES:
            raise DecodeError(f"a scalar's dtype must be one of {', '.join(DTYPES)}")
        data, _ = _numbers([value["value"]], value["dtype"], [1], budget)
        import numpy as np

        return np.array(data, dtype=value["dtype"])[0]
    if tag == "sequential":
        return _sequential(value, sub)
    if plain:
        raise DecodeError(f"a reply may not hold a {tag!r} value")
    return _lab_object(tag, value, sub)


def _tensor(value: Any, sub: dict, ndim: int, what: str):
    import torch

    tensor = decode(value, **sub)
    if not isinstance(tensor, torch.Tensor) or tensor.ndim != ndim or not tensor.is_floating_point():
        raise DecodeError(f"{what} must be a floating-point tensor with {ndim} dimensions")
    return tensor


def _sequential(value: dict, sub: dict):
    import torch
    from torch import nn

    _check_keys(value, {"$", "layers"})
    if type(value["layers"]) is not list or len(value["layers"]) > 1000:
        raise DecodeError("a network's layers must be a list of at most 1000 layers")
    modules: list[nn.Module] = []
    for layer in value["layers"]:
        if type(layer) is dict and set(layer) == {"relu"} and layer["relu"] is True:
            modules.append(nn.ReLU())
            continue
        if type(layer) is not dict or set(layer) != {"linear", "bias"}:
            raise DecodeError("a network's layer must be {'relu': true} or {'linear': weight, 'bias': bias}")
        weight = _tensor(layer["linear"], sub, 2, "a linear layer's weight")
        bias = None if layer["bias"] is None else _tensor(layer["bias"], sub, 1, "a linear layer's bias")
        if bias is not None and (bias.shape[0] != weight.shape[0] or bias.dtype != weight.dtype):
            raise DecodeError("a linear layer's bias must have one entry per output and the weight's dtype")
        linear = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None, dtype=weight.dtype)
        with torch.no_grad():
            linear.weight.copy_(weight)
            if bias is not None:
                linear.bias.copy_(bias)
        modules.append(linear)
    return nn.Sequential(*modules)


def _lab_object(tag: str, value: dict, sub: dict) -> Any:
    if tag == "function":
        _check_keys(value, {"$", "name"})
        functions = _functions()
        if value["name"] not in functions:
            raise DecodeError(f"unknown function {value['name']!r}")
        return functions[value["name"]]
    if tag == "quadratic":
        from dltheory.quadratic import Quadratic

        _check_keys(value, {"$", "A", "b"})
        return Quadratic(A=_tensor(value["A"], sub, 2, "A"), b=_tensor(value["b"], sub, 1, "b"))
    if tag == "twolayer":
        import torch

        from dltheory.twolayer import TwoLayerReLU

        _check_keys(value, {"$", "W", "out"})
        W, out = _tensor(value["W"], sub, 2, "W"), _tensor(value["out"], sub, 2, "the output weights")
        net = TwoLayerReLU(W.shape[1], W.shape[0], dtype=W.dtype)
        with torch.no_grad():
            net[0].weight.copy_(W)
            net[2].weight.copy_(out)
        return net
    if tag == "hexapawn":
        from dltheory.games import Hexapawn

        _check_keys(value, {"$", "size", "board", "to_move"})
        return Hexapawn(value["size"], value["board"], value["to_move"])
    if tag == "tictactoe":
        from dltheory.games import TicTacToe

        _check_keys(value, {"$", "board"})
        return TicTacToe(value["board"])
    if tag == "randomtree":
        from dltheory.games import RandomTree

        _check_keys(value, {"$", "branching", "depth", "seed", "ordering", "path", "value", "window"})
        return RandomTree(value["branching"], value["depth"], value["seed"], value["ordering"],
                          tuple(value["path"]), float(value["value"]), tuple(value["window"]))
    raise DecodeError(f"unknown tag {tag!r}")


def loads(data: bytes, *, plain: bool) -> Any:
    """`decode` of UTF-8 JSON bytes."""
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise DecodeError(f"the message is not JSON: {error}") from None
    return decode(parsed, plain=plain)
