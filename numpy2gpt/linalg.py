"""stub"""
__all__ = []
TENSOR_METHODS = {}
