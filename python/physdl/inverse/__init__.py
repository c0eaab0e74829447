from .lasso import *  # noqa
