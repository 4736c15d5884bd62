"""Input validation at the CTI's edges (HTTP bodies, command arguments from HTTP and MQTT): pydantic
models answer a bad value with 422 and the reason, never a ValueError or OverflowError deeper down."""
from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from cti.agents import CtiError
from hotline.bus.payload import PayloadError, decode_json

M = TypeVar("M", bound=BaseModel)
MAX_ID = 2 ** 31 - 1                    # database ids are INTEGER columns (32-bit on PostgreSQL)
AGENT_ID = r"^[A-Za-z0-9_-]{1,32}$"
LINKEDID_MAX = 64
NUMBER_MAX = 40
Text = Annotated[str, Field(max_length=2000)]
Short = Annotated[str, Field(max_length=64)]
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]


class InvalidInput(CtiError):
    status = 422


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginBody(Strict):
    agent_id: Annotated[str, Field(min_length=1, max_length=64)]
    pin: Annotated[str, Field(min_length=1, max_length=64)]


class AnnouncementBody(Strict):
    text: Text = ""
    audience: dict[str, Any] = Field(default_factory=dict)
    priority: Annotated[str, Field(max_length=20)] = "normal"


def _args(**fields: Any) -> type[Strict]:
    return create_model("Args", __base__=Strict, **fields)


# The arguments every command takes (cti.commands.AgentCommands and the supervisor commands).
COMMAND_ARGS: dict[str, type[Strict]] = {
    "login": _args(ready=(bool, False)),
    "not-ready": _args(reason=(Annotated[str, Field(max_length=40)], "")),
    "disposition": _args(code=(Annotated[str, Field(max_length=40)], ""), notes=(Text, ""),
                         linkedid=(Annotated[str, Field(max_length=LINKEDID_MAX)] | None, None)),
    "ack-announcement": _args(announcement_id=(DbId, ...)),
    "dial": _args(number=(Annotated[str, Field(max_length=NUMBER_MAX)], ""), queue=(Short | None, None)),
    "transfer": _args(target=(Short, "")),
    "consult": _args(target=(Short, ""), timeout=(Annotated[float, Field(gt=0, le=3600)] | None, None)),
    "send-to-ivr": _args(flow=(Short, "")),
    "force-state": _args(state=(Annotated[str, Field(max_length=20)], ...),
                         reason=(Annotated[str, Field(max_length=40)] | None, None)),
    "announce": _args(text=(Text, ""), audience=(dict[str, Any], {}),
                      priority=(Annotated[str, Field(max_length=20)], "normal")),
}
NO_ARGS = _args()


def reason(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()[:5])


def validate(model: type[M], value: Any) -> M:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise InvalidInput(reason(exc)) from None


def command_args(command: str, args: Any) -> dict[str, Any]:
    """The validated arguments of ``command`` (only those given: the handlers keep their defaults)."""
    if not isinstance(args, dict):
        raise InvalidInput("'args' must be a JSON object")
    model = COMMAND_ARGS.get(command, NO_ARGS)
    try:
        return model.model_validate(args).model_dump(exclude_unset=True)
    except ValidationError as exc:
        raise InvalidInput(f"{command}: bad arguments {sorted(str(k)[:40] for k in args)[:10]}: {reason(exc)}") from None


def parse_json(raw: bytes, *, max_bytes: int = 1 << 20) -> Any:
    try:
        return decode_json(raw, max_bytes=max_bytes + 1024, max_depth=32)
    except PayloadError as exc:
        raise InvalidInput(f"request body: {exc}") from None
