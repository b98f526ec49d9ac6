from accounts.models import Role, Team, User

DEMO_PASSWORD = "sampark-demo"
PEOPLE = [
    ("admin", "Asha", "Menon", Role.ADMIN, []),
    ("priya", "Priya", "Sharma", Role.SUPERVISOR, ["Sales", "Support"]),
    ("rahul", "Rahul", "Verma", Role.AGENT, ["Sales"]),
    ("ananya", "Ananya", "Iyer", Role.AGENT, ["Sales"]),
    ("vikram", "Vikram", "Singh", Role.AGENT, ["Support"]),
    ("fatima", "Fatima", "Khan", Role.AGENT, ["Support"]),
    ("arjun", "Arjun", "Reddy", Role.AGENT, ["Collections"]),
]


def seed(*, rng, stdout, **_):
    for username, first, last, role, teams in PEOPLE:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "role": role, "email": f"{username}@example.in"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.phone = f"+9198{rng.randrange(10_000_000, 99_999_999)}"
            user.save()
        for team_name in teams:
            Team.objects.get_or_create(name=team_name)[0].members.add(user)
    stdout.write(f"Users: {', '.join(p[0] for p in PEOPLE)} — password “{DEMO_PASSWORD}” (admin is the admin).")
