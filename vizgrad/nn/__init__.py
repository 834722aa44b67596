"""vizgrad.nn: Module, Parameter, layers and losses, as torch.nn (`import vizgrad.nn as nn`)."""
from vizgrad.nn import functional, init
from vizgrad.nn.module import Module
from vizgrad.nn.parameter import Buffer, Parameter
from vizgrad.nn.modules import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Dropout, Flatten, GELU, Identity,
                                L1Loss, LeakyReLU, Linear, LogSigmoid, LogSoftmax, ModuleDict, ModuleList, MSELoss, NLLLoss,
                                ReLU, Sequential, Sigmoid, SiLU, Softmax, Softplus, Tanh)
from vizgrad.nn.layers import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, BatchNorm1d, BatchNorm2d,
                               Conv1d, Conv2d, ConvTranspose2d, Embedding, HuberLoss, KLDivLoss, LayerNorm, LazyLinear, MaxPool1d,
                               MaxPool2d, ParameterDict, ParameterList, SmoothL1Loss, Unflatten)
from vizgrad.nn.layers import UninitializedParameter  # noqa: F401
from vizgrad.nn import layers, modules, utils  # noqa: F401

__all__ = ["Module", "Parameter", "Buffer", "Linear", "Sequential", "ModuleList", "ModuleDict", "Identity",
           "Flatten", "Dropout", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "Softmax", "LogSoftmax",
           "Softplus", "SiLU", "LogSigmoid", "MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss",
           "functional", "init", "utils", "Conv1d", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm1d",
           "BatchNorm2d", "LayerNorm", "Embedding", "LazyLinear", "Unflatten", "ParameterList", "ParameterDict",
           "SmoothL1Loss", "HuberLoss", "KLDivLoss", "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d",
           "ConvTranspose2d"]
