"""The MQTT event bus: publisher/subscriber (aiomqtt) and the embedded broker (amqtt)."""
from hotline.bus.embedded import EmbeddedBroker
from hotline.bus.publisher import PAYLOAD_VERSION, EventBus, encode_payload, topic_matches

__all__ = ["EmbeddedBroker", "EventBus", "PAYLOAD_VERSION", "encode_payload", "topic_matches"]
