import phonenumbers
from phonenumbers import PhoneNumberType

from accounts.models import Role, User
from contacts.models import Contact, ContactPhone, CustomField, Label, Note

FIRST = "Aarav Vivaan Aditya Vihaan Arjun Sai Reyansh Krishna Ishaan Shaurya Ananya Diya Saanvi Aadhya Kavya Ira Myra Anika Riya Pooja Neha Sunita Ramesh Suresh Mahesh Lakshmi Gopal Meera Harpreet Gurpreet Imran Ayesha Joseph Mary Deepak Sanjay Kiran Nisha Tanvi Rohan".split()
LAST = "Sharma Verma Gupta Singh Kumar Patel Shah Mehta Iyer Nair Menon Reddy Rao Naidu Das Bose Chatterjee Banerjee Mukherjee Joshi Kulkarni Deshpande Pillai Khan Ansari Fernandes D'Souza Gill Sandhu Yadav Mishra Tiwari Pandey Jain Agarwal".split()
CITIES = ["Mumbai", "Delhi", "Bengaluru", "Chennai", "Kolkata", "Hyderabad", "Pune", "Jaipur", "Lucknow", "Kochi"]
LABELS = [("VIP", "#b45309"), ("Lead", "#2563eb"), ("Customer", "#15803d"), ("Overdue", "#b91c1c"), ("Wholesale", "#7c3aed")]
NOTES = [
    "Asked for a callback after 6 pm.",
    "Prefers Hindi on calls.",
    "Interested in the annual plan; send the brochure on WhatsApp.",
    "Delivery address changed to the office.",
    "Raised a complaint about a late delivery — resolved with a coupon.",
]


def random_mobile(rng) -> str:
    while True:
        candidate = f"+91{rng.choice('6789')}{rng.randrange(100_000_000, 999_999_999)}"
        parsed = phonenumbers.parse(candidate)
        if phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) == PhoneNumberType.MOBILE:
            return candidate


def seed(*, rng, stdout, contacts=300, **_):
    labels = [Label.objects.get_or_create(name=n, defaults={"color": c})[0] for n, c in LABELS]
    CustomField.objects.get_or_create(key="city", defaults={"label": "City", "order": 1})
    CustomField.objects.get_or_create(
        key="plan", defaults={"label": "Plan", "field_type": "choice", "choices": "Basic, Plus, Enterprise", "order": 2}
    )
    agents = list(User.objects.filter(role=Role.AGENT))
    missing = contacts - Contact.objects.count()
    for _ in range(max(0, missing)):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        contact = Contact.objects.create(
            name=f"{first} {last}",
            email=f"{first.lower()}.{last.lower().replace(chr(39), '')}{rng.randrange(1, 99)}@example.in" if rng.random() < 0.6 else "",
            owner=rng.choice(agents) if agents and rng.random() < 0.6 else None,
            custom_fields={"city": rng.choice(CITIES), **({"plan": rng.choice(["Basic", "Plus", "Enterprise"])} if rng.random() < 0.4 else {})},
        )
        number = random_mobile(rng)
        while ContactPhone.objects.filter(number=number).exists():
            number = random_mobile(rng)
        ContactPhone.objects.create(contact=contact, number=number, is_primary=True)
        if rng.random() < 0.4:
            contact.labels.add(rng.choice(labels))
        if rng.random() < 0.2:
            Note.objects.create(contact=contact, author=contact.owner, body=rng.choice(NOTES))
    stdout.write(f"Contacts: {Contact.objects.count()}.")
