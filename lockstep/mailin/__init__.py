"""Mail into Lockstep: the SMTP server, and the pipeline that turns stored mail into reports
and posts. It sits above intake and cases (it calls their actions) and below the edges."""
