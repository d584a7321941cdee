"""Automatic warnings (预警): rules over the live and loaded data, their evaluation loop and their table.

Sits after the layers in the flow: reads geo and the layers' analytics, writes only ``warnings``.
"""
