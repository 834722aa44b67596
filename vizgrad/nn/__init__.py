"""vizgrad.nn: Module, Parameter, layers and losses, as torch.nn (`import vizgrad.nn as nn`)."""
from vizgrad.nn import functional, init
from vizgrad.nn.module import Module
from vizgrad.nn.parameter import Buffer, Parameter
from vizgrad.nn.modules import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Dropout, Flatten, GELU, Identity,
                                L1Loss, LeakyReLU, Linear, LogSoftmax, ModuleDict, ModuleList, MSELoss, NLLLoss,
                                ReLU, Sequential, Sigmoid, SiLU, Softmax, Softplus, Tanh)
from vizgrad.nn import modules  # noqa: F401

__all__ = ["Module", "Parameter", "Buffer", "Linear", "Sequential", "ModuleList", "ModuleDict", "Identity",
           "Flatten", "Dropout", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "Softmax", "LogSoftmax",
           "Softplus", "SiLU", "MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss",
           "functional", "init"]
