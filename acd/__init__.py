"""ACD: queues, routing strategies and what waiting callers hear.

- ``acd.config``      queue fields from config/queues.yaml (QueueSettings), agents (AgentProfile)
- ``acd.strategies``  one module per strategy behind ``@register(name)``; sorted per-skill pools, O(log n)
- ``acd.engine``      the deterministic queue state machine (events in, actions + queue log out)
- ``acd.service``     the engine on asyncio (timers, tickets, queue-log writer)
- ``acd.component``   the ACD's life in ``hotline serve`` (``running``: CTI's agents, stats publisher, timers)
- ``acd.ports``       what the ACD needs of the others, as Protocols (CTI agents, AMI actions, stats publisher)
- ``acd.handoff``     the IVR's QueueHandoff over FastAGI (music on hold, announcements, EXEC Dial)
- ``acd.callback``    callbacks: Originate to the agent, then the customer from the agent's AGI session
- ``acd.agents``      where agent states come from: CTI's state machine (the source of truth, wrap-up included;
                      ``link_cti``); ``InMemoryAgentDirectory`` is the stand-in the ACD's own tests drive
- ``acd.queue_log`` / ``acd.models``  Asterisk queue_log rows in the database
- ``acd.stats`` / ``acd.http`` / ``acd.publisher``  live figures over HTTP and MQTT: the one owner of queue
                      statistics and of ``queues/{name}/stats`` (CTI's supervisor desk reads them from the ACD)
"""
