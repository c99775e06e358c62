"""Field types shared by the API's request and response models."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

# The wire form of money: a decimal string of minor units, never a JSON number.
MinorUnits = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{1,78}$",
        description="an amount in minor units (wei, token base units), as a decimal string",
        examples=["50000000000000000"],
    ),
]

# Why a staff member decided what they did; kept with the decision for the record.
Reason = Annotated[str, Field(min_length=1, max_length=500, description="why, for the record")]
