"""pbxsim: a protocol-faithful Asterisk 22 stand-in (AMI server, FastAGI client, dialplan, participants).

See pbxsim/README.md."""
