"""Builtins, numpy, torch and pandas as they were at import, before any student cell.

Student code runs in the function host's process and may rebind ``len``, patch
``numpy.where`` or ``torch.Tensor.__mul__``.  The host loop imports its adapters (and so
this module) before it execs any student cell, so the objects captured here are the
pristine ones, and the conversions (``encoding``, ``autograder.host.adapters``) use only
them: one read-only namespace per source, named in capitals (``PY.len``, ``NP.where``,
``TB.mul``).  tests/test_kernel_capture.py
rejects any bare builtin or other global a kernel function reads, and any capture
no kernel function uses.
"""
from __future__ import annotations

import builtins
import math
from typing import Any

import numpy
import pandas
import torch


class Captured:
    """A read-only namespace of objects taken at import."""

    def __init__(self, **objects: Any) -> None:
        for name, obj in objects.items():
            object.__setattr__(self, name, obj)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{name}: captured kernel references are read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{name}: captured kernel references are read-only")


def captured_names(namespace: Captured) -> list[str]:
    """The names a captured namespace holds (the kernel-capture test checks each is used)."""
    return sorted(vars(namespace))


PY = Captured(
    type=builtins.type, isinstance=builtins.isinstance, len=builtins.len, range=builtins.range,
    sorted=builtins.sorted, repr=builtins.repr, str=builtins.str, ord=builtins.ord, list=builtins.list,
    dict=builtins.dict, tuple=builtins.tuple, set=builtins.set, frozenset=builtins.frozenset,
    bool=builtins.bool, int=builtins.int, float=builtins.float, enumerate=builtins.enumerate,
    callable=builtins.callable, BaseException=builtins.BaseException,
    float_value=float.__float__,  # the stored double, ignoring subclass overrides
    float_repr=float.__repr__, int_value=int.__index__, int_repr=int.__repr__,
    str_join=str.join, str_value=str.__str__, dict_items=dict.items,
    isfinite=math.isfinite,
)
NP = Captured(
    ndarray=numpy.ndarray, generic=numpy.generic, bool_=numpy.bool_, item=numpy.generic.item, float32=numpy.float32,
    tolist=numpy.ndarray.tolist, array=numpy.array, asarray=numpy.asarray, int64=numpy.int64,
    RandomState=numpy.random.RandomState, concatenate=numpy.concatenate, full=numpy.full, where=numpy.where,
    arange=numpy.arange, exp=numpy.exp, zeros=numpy.zeros, clip=numpy.clip, column_stack=numpy.column_stack,
    linspace=numpy.linspace, searchsorted=numpy.searchsorted, bincount=numpy.bincount, abs=numpy.abs,
)

_TB = torch._C.TensorBase  # the C methods: torch.Tensor's Python layer can be patched, these cannot
TORCH = Captured(Tensor=torch.Tensor, Generator=torch.Generator, randn=torch.randn, randint=torch.randint,
                 grad=torch.autograd.grad)
TB = Captured(
    tolist=_TB.tolist, detach=_TB.detach, dim=_TB.dim, numel=_TB.numel, float=_TB.float, double=_TB.double,
    half=_TB.half, abs=_TB.abs, sum=_TB.sum, mul=_TB.mul, add=_TB.add, sub=_TB.sub, reshape=_TB.reshape,
    requires_grad=_TB.requires_grad.__get__, requires_grad_=_TB.requires_grad_, dtype=_TB.dtype.__get__,
)

PD = Captured(DataFrame=pandas.DataFrame, Series=pandas.Series, to_dict=pandas.DataFrame.to_dict,
              reset_index=pandas.DataFrame.reset_index, series_tolist=pandas.Series.tolist)
