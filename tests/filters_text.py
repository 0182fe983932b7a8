"""Hand-written text for the quality-filter tests: reference prose, web junk, many languages.

The prose reads like a local-history book about a water mill (the "reference source" a
language model or quality classifier learns from); the junk is what a crawl brings in
(keyword stuffing, cookie banners, shop navigation). Documents are assembled from these
sentences deterministically, so tests can train tiny models without any download.
"""

from __future__ import annotations

import random

MILL_PROSE = """\
The mill stood on the east bank of the river, a little below the old stone bridge.
It was built of local limestone in the late eighteenth century and enlarged twice before 1850.
Water was taken from the river by a long weir and led along a narrow channel to the wheel.
The wheel itself was of the breastshot kind, with wooden paddles set in an iron frame.
In a dry summer the miller could grind for only a few hours each day.
Farmers brought their grain in carts after the harvest, and the queue often reached the bridge.
The miller kept a small share of every sack as payment, a custom known as the toll.
Wheat was ground for bread, while barley and oats went mostly to feed the animals.
The millstones came from quarries in France and were dressed by hand every few weeks.
Dressing a stone meant cutting fresh grooves into its face with a sharp steel pick.
A good dresser could tell from the sound of the stones whether the flour would be fine.
On the upper floor the grain was cleaned and stored in wooden bins before grinding.
The flour fell through a wooden spout into sacks that hung on hooks below the stones.
Two men and a boy were enough to run the mill in an ordinary season.
The miller's house stood beside the mill, with a garden that ran down to the water.
His wife kept the accounts and sold flour to the bakers of the village.
In the spring the river often rose above the banks and flooded the meadows nearby.
During one great flood the water reached the lower floor and spoiled a hundred sacks of grain.
After that winter the miller raised the floor and built a stone wall along the channel.
The village grew slowly around the mill, the church and the market square.
Every Thursday the market filled with carts, cattle, cheese and baskets of eggs.
Bakers bought their flour at the mill and sold bread in the square on market days.
The road to the town followed the river for three miles through fields and woods.
In wet weather the road turned to mud and the carts could hardly pass.
A new turnpike road was opened in 1820, and trade at the mill increased.
The railway reached the valley some forty years later and brought cheap flour from the ports.
Many small mills closed in those years, unable to compete with the great steam mills.
Our mill survived because the miller turned to grinding animal feed for the farms.
He also installed a small turbine that drove a saw for cutting timber.
The old wheel was kept for many years and turned only when the turbine was repaired.
In the twentieth century the mill was used as a store and later as a workshop.
The last miller retired in 1952, and the building stood empty for some time.
A local society bought the mill in 1978 and began to restore the wheel and the stones.
Volunteers cleared the channel, rebuilt the sluice gate and replaced the rotten paddles.
The restored wheel turned again for the first time on a cold morning in March.
Today visitors can watch the stones grind wheat on the first Sunday of every month.
The flour is sold in the small shop beside the mill, together with books about its history.
School classes come to learn how bread was made before the age of machines.
The society keeps the miller's account books, which record every sack ground for a century.
From these books we know the names of the farmers and the size of each harvest.
A wet summer meant a poor harvest, and the price of bread rose in the following winter.
In good years the miller could hardly keep up with the grain that came to the door.
The river also fed a fish pond, and the miller had the right to catch eels in the autumn.
Eels were trapped in wicker baskets set in the tail race below the wheel.
Swans nested on the island above the weir, and herons stood in the shallows at dawn.
Children from the village swam in the mill pool on hot afternoons in July.
The miller did not like it, for they frightened the fish and splashed the sacks.
Old photographs show the mill with a thatched roof, later replaced by slate.
A small bell on the hopper rang when the grain ran low, warning the miller to refill it.
The gears were made of apple wood, which wears slowly and runs quietly.
When a tooth broke, the miller carved a new one from a seasoned block kept for that purpose.
The main shaft was a single oak trunk, shaped by hand and bound with iron hoops.
Mills like this one once stood on almost every river in the country.
Most of them are gone, but their names survive in lanes, farms and family names.
The story of our mill is the story of the village, of its fields, its weather and its bread.
"""

RAILWAY_PROSE = """\
The first locomotives on the line were small tank engines bought second hand from a northern company.
They pulled mixed trains of coal wagons and two or three passenger carriages.
Signals were worked by hand from wooden boxes placed at each station.
The station master lived in a house beside the platform and sold tickets from a small window.
Passengers travelling to the coast changed trains at the junction and waited in a cold hall.
In the summer months excursion trains carried families to the seaside for a day.
The line was doubled in 1890, and a second platform was built with an iron footbridge.
Goods yards handled timber, cattle and bricks from the works beside the canal.
Steam gave way to diesel engines in the nineteen sixties, and the sheds were pulled down.
"""

WEB_JUNK_FRAGMENTS = """\
Click here to subscribe and get 50% off your first order!!!
We use cookies to improve your experience. By continuing you accept our cookie policy.
Accept all cookies | Manage preferences | Privacy policy | Terms of use
Home | About us | Shop | Cart (0) | Login | Register | Contact
cheap watches best price cheap watches online buy cheap watches free shipping
FREE SHIPPING on all orders over $49 - limited time offer - shop now
Best casino bonus 2024 no deposit free spins casino bonus codes
Copyright 2024 All rights reserved. Powered by WordPress.
Sign up for our newsletter to receive the latest deals and coupons.
Add to cart | Add to wishlist | Compare | Quick view
Posted by admin in Uncategorized | 0 comments | Read more
Previous post | Next post | Share on Facebook | Tweet | Pin it
Your cart is empty. Continue shopping.
Sort by: popularity | price low to high | price high to low | newest
Download free mp3 ringtones wallpapers games apps for android phone
weight loss pills fast weight loss diet pills buy online no prescription
Enter your email address | Subscribe | Unsubscribe at any time
Page 1 of 24 | First | 1 | 2 | 3 | 4 | Next | Last
JavaScript is disabled in your browser. Please enable JavaScript to view this site.
Loading... please wait... error 404 page not found
"""

#: short documents in several languages (language-ID golden); the key is the expected label
MULTILINGUAL = {
    "en": "The farmers brought their grain to the mill after the harvest, and the miller "
    "ground it into flour for the village bakers.",
    "de": "Die Bauern brachten ihr Getreide nach der Ernte zur Mühle, und der Müller mahlte "
    "es zu Mehl für die Bäcker des Dorfes.",
    "fr": "Après la moisson, les paysans apportaient leur grain au moulin, et le meunier le "
    "transformait en farine pour les boulangers du village.",
    "es": "Después de la cosecha, los campesinos llevaban su grano al molino, y el molinero "
    "lo convertía en harina para los panaderos del pueblo.",
    "it": "Dopo il raccolto i contadini portavano il grano al mulino, e il mugnaio lo "
    "macinava in farina per i fornai del paese.",
    "nl": "Na de oogst brachten de boeren hun graan naar de molen, en de molenaar maalde "
    "het tot meel voor de bakkers van het dorp.",
    "pt": "Depois da colheita, os camponeses levavam o seu grão ao moinho, e o moleiro "
    "transformava-o em farinha para os padeiros da aldeia.",
    "pl": "Po żniwach chłopi przywozili zboże do młyna, a młynarz mielił je na mąkę dla "
    "piekarzy ze wsi.",
    "sv": "Efter skörden körde bönderna sin säd till kvarnen, och mjölnaren malde den till "
    "mjöl åt byns bagare.",
    "ru": "После жатвы крестьяне везли зерно на мельницу, и мельник молол из него муку для "
    "деревенских пекарей.",
    "ja": "収穫の後、農民たちは穀物を水車小屋に運び、粉屋はそれを村のパン屋のために粉にひいた。",
    "zh": "收获之后，农民们把粮食运到磨坊，磨坊主把它磨成面粉，供村里的面包师使用。",
    "ar": "بعد الحصاد كان الفلاحون يحملون حبوبهم إلى الطاحونة، وكان الطحان يطحنها دقيقا "
    "لخبازي القرية.",
    "tr": "Hasattan sonra köylüler tahıllarını değirmene getirirdi, değirmenci de onu köyün "
    "fırıncıları için una öğütürdü.",
}


def sentences(prose: str) -> list[str]:
    return [line for line in prose.splitlines() if line.strip()]


def prose_documents(prose: str, per_document: int = 3, seed: int = 0, count: int = 30) -> list[str]:
    """``count`` documents of ``per_document`` sentences drawn from ``prose`` (seeded)."""
    rng = random.Random(seed)
    lines = sentences(prose)
    return [" ".join(rng.sample(lines, per_document)) for _ in range(count)]


def junk_documents(seed: int = 1, count: int = 30) -> list[str]:
    """Web-junk documents: a few boilerplate and spam lines, one per line (seeded)."""
    rng = random.Random(seed)
    lines = sentences(WEB_JUNK_FRAGMENTS)
    return ["\n".join(rng.sample(lines, rng.randint(3, 6))) for _ in range(count)]
