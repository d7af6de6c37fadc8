"""Invented article texts for the fixture corpus (`bench/parse_corpus.py` renders them as pages).

The words are made up; only the page markup imitates real sites of each kind.
"""

from __future__ import annotations

STORIES: dict[str, dict] = {
    "harbour": {
        "title": "City Council Approves Harbour Redevelopment After Five-Hour Debate",
        "lead": "The plan turns the disused container terminal into housing, a park and a ferry hub, "
        "but opponents say the cost estimates are far too optimistic.",
        "paragraphs": [
            "Councillors voted 9 to 4 late on Tuesday to approve the long-delayed redevelopment of the old "
            "container terminal, ending a debate that stretched past midnight.",
            "The scheme, estimated at 410 million euros, includes 1,800 homes, a waterfront park and a new "
            "ferry terminal that would link the district with the islands to the north.",
            '"This is the most important decision this council will take for a generation," said deputy '
            "mayor Ingrid Solberg, who has championed the project since 2019.",
            "Opponents argued that the estimates ignore the cost of cleaning contaminated soil. An independent "
            "report published in March put that bill alone at up to 60 million euros.",
            "Construction is expected to begin next spring, with the first residents moving in by 2027.",
        ],
    },
    "drought": {
        "title": "Farmers Count Losses as Drought Enters Its Third Month",
        "lead": "Wheat yields in the southern plains could fall by a third, agronomists warn.",
        "paragraphs": [
            "Across the southern plains, fields that should be green by now are the colour of straw.",
            "Rainfall since April has been less than a quarter of the long-term average, according to the "
            "national weather service, and reservoirs stand at their lowest level in two decades.",
            "Marta Kowalczyk, who farms 300 hectares near the river, said she had already sold half of her "
            "cattle because she could no longer afford to buy feed.",
            "The agriculture ministry has promised emergency payments, but farmers' unions say the money will "
            "arrive too late for many smaller producers.",
            "Forecasters see little chance of significant rain before the end of the month.",
        ],
    },
    "chipplant": {
        "title": "Chipmaker Picks Northern Valley for New Factory",
        "lead": "The 2.3 billion dollar plant is expected to create about 1,400 jobs.",
        "paragraphs": [
            "A semiconductor manufacturer said on Monday it had chosen the northern valley for its first "
            "factory outside Asia, after a two-year search that included sites in four countries.",
            "The company cited the region's supply of clean hydro power and its technical university as "
            "deciding factors.",
            "Local officials offered tax breaks worth an estimated 180 million dollars over ten years, a "
            "figure critics called excessive.",
            "Production of automotive chips is due to start in late 2026.",
        ],
    },
    "marathon": {
        "title": "Record Field Expected for Sunday's City Marathon",
        "lead": "More than 42,000 runners have registered, and organisers have changed the route.",
        "paragraphs": [
            "Organisers of the city marathon say a record 42,300 runners have signed up for Sunday's race, "
            "nearly 6,000 more than last year.",
            "To cope with the numbers, the start will be split into five waves and the course now avoids the "
            "narrow bridge that caused bottlenecks in 2023.",
            "Several roads in the centre will be closed from 6 a.m. until late afternoon, and extra trams will "
            "run on the eastern lines.",
            "Last year's winner, Daniel Kiprop, is returning to defend his title.",
        ],
    },
    "museum": {
        "title": "Restored Medieval Altarpiece Returns to Cathedral",
        "lead": "Conservators spent six years removing centuries of varnish and candle soot.",
        "paragraphs": [
            "A fifteenth-century altarpiece went back on display in the cathedral on Friday after six years "
            "in a conservation studio.",
            "Under layers of darkened varnish, restorers found the painter's original blues and a small "
            "self-portrait hidden among the crowd in the central panel.",
            '"We knew it was an important work, but we did not expect this," said chief conservator Helena Marsh.',
            "The restoration was paid for by a private foundation and cost about 1.2 million euros.",
            "Visitors can see the altarpiece free of charge until the end of the year.",
        ],
    },
    "railstrike": {
        "title": "Rail Workers Announce 48-Hour Strike Over Pay",
        "lead": "Commuters face disruption on Thursday and Friday after talks broke down.",
        "paragraphs": [
            "The rail workers' union said on Wednesday that its members would walk out for 48 hours from "
            "Thursday morning after pay talks collapsed.",
            "The union is demanding a 9 percent rise to offset inflation; the operator has offered 4.5 percent "
            "over two years.",
            "Only about a third of regional trains are expected to run, and no night services will operate.",
            "Passengers with tickets for the affected days can claim a full refund or travel a day earlier.",
        ],
    },
    "telescope": {
        "title": "New Telescope Captures Sharpest Image Yet of Distant Nebula",
        "lead": "Astronomers say the image reveals hundreds of previously unseen young stars.",
        "paragraphs": [
            "An observatory on the high desert plateau released its first scientific image on Tuesday, a "
            "view of a star-forming nebula 7,000 light years away.",
            "The picture was made with the telescope's new adaptive optics system, which corrects for "
            "turbulence in the atmosphere about a thousand times per second.",
            '"We are seeing structures that were simply invisible before," said project scientist Ana Ruiz.',
            "The team plans to publish a detailed analysis of the young stars later this year.",
        ],
    },
    "bakery": {
        "title": "How a Village Bakery Survived the Energy Crisis",
        "lead": None,
        "paragraphs": [
            "When the electricity bill for his bakery tripled last winter, Tomas Berg thought about closing "
            "the business his grandfather opened in 1958.",
            "Instead he replaced the old ovens with a wood-fired one built by a local mason and changed "
            "opening hours so that baking happens when power is cheapest.",
            "Customers noticed the difference in the bread, he says, and queues on Saturday mornings are now "
            "longer than ever.",
            '"We were lucky. Many bakers in the region were not," he said.',
        ],
    },
    "election": {
        "title": "Turnout Tops 70 Percent in Regional Election",
        "lead": "Early results point to a narrow win for the governing coalition.",
        "paragraphs": [
            "Voters turned out in large numbers on Sunday for the regional election, with turnout reaching "
            "71.4 percent, the highest since 1994.",
            "With most ballots counted, the governing coalition had 48 percent of the vote, against 45 percent "
            "for the opposition alliance.",
            "The result means the coalition is likely to keep its majority by one seat.",
            "Opposition leader Clara Weiss said she would wait for the final count before conceding.",
        ],
    },
    "floods": {
        "title": "Flood Defences Hold as River Peaks Overnight",
        "lead": "Emergency crews worked through the night to reinforce the embankments.",
        "paragraphs": [
            "The river peaked at 7.8 metres shortly after 3 a.m., just below the level at which the old town "
            "would have flooded.",
            "Around 600 volunteers filled sandbags on Saturday evening, and the army sent two companies of "
            "engineers to help.",
            "Residents of low-lying streets were allowed to return home on Sunday afternoon.",
            "The mayor thanked the volunteers and promised to speed up work on a permanent flood wall.",
        ],
    },
    "startup": {
        "title": "Bike-Sharing Startup Raises 30 Million in New Funding",
        "lead": "The company plans to expand to twelve more cities next year.",
        "paragraphs": [
            "A bike-sharing startup founded four years ago by two engineering students has raised 30 million "
            "dollars from a group of venture investors.",
            "The company operates about 9,000 electric bikes in six cities and says it became profitable in the "
            "last quarter.",
            "Chief executive Priya Natarajan said the money would be used to build a second battery-swapping "
            "depot and to hire 150 staff.",
            "Competitors have struggled, and two rival services shut down last year.",
        ],
    },
    "library": {
        "title": "Library Opens Overnight Reading Room for Students",
        "lead": "The room will stay open until 3 a.m. during the exam period.",
        "paragraphs": [
            "The central library will keep one reading room open until 3 a.m. during the exam period, after "
            "a petition signed by more than 4,000 students.",
            "Security staff will check library cards at the entrance, and the café will sell coffee until midnight.",
            "If the trial is a success, the library says it could make the late opening permanent.",
        ],
    },
    "ru_metro": {
        "title": "В Новосибирске откроют новую станцию метро",
        "lead": "Станция «Спортивная» примет первых пассажиров в декабре.",
        "paragraphs": [
            "Строительство новой станции метро в Новосибирске выходит на финальный этап, сообщили в мэрии города.",
            "По словам заместителя мэра Игоря Петрова, отделочные работы завершены на девяносто процентов.",
            "«Мы понимаем, как долго жители ждали эту станцию», — сказал он журналистам.",
            "Ожидается, что новой станцией будут пользоваться около двадцати тысяч человек в день.",
        ],
    },
    "ru_theatre": {
        "title": "Драматический театр покажет премьеру по пьесе Чехова",
        "lead": None,
        "paragraphs": [
            "Областной драматический театр представит новую постановку «Вишнёвого сада» в конце марта.",
            "Режиссёр спектакля Анна Смирнова рассказала, что репетиции продолжались почти полгода.",
            "Декорации для постановки создали студенты местного художественного училища.",
            "Билеты на первые показы уже поступили в продажу.",
        ],
    },
    "fr_vendanges": {
        "title": "Les vendanges commencent plus tôt que prévu en Bourgogne",
        "lead": "La chaleur de l'été a accéléré la maturation du raisin.",
        "paragraphs": [
            "Les vignerons de la côte de Beaune ont commencé à récolter le chardonnay dès la fin du mois d'août, "
            "soit près de deux semaines plus tôt qu'à l'accoutumée.",
            "« La qualité est très prometteuse, mais les volumes seront modestes », explique Élodie Garnier, "
            "viticultrice à Meursault.",
            "La sécheresse a réduit la taille des grappes, et certains domaines prévoient une baisse de récolte "
            "de vingt pour cent.",
            "Les premiers vins de l'année seront dégustés lors de la traditionnelle vente des hospices en novembre.",
        ],
    },
    "de_bruecke": {
        "title": "Sanierung der Rheinbrücke dauert länger als geplant",
        "lead": "Pendler müssen sich bis zum Herbst auf Umleitungen einstellen.",
        "paragraphs": [
            "Die Sanierung der alten Rheinbrücke wird mindestens vier Monate länger dauern als ursprünglich "
            "geplant, teilte das Straßenbauamt am Montag mit.",
            "Bei Prüfungen seien größere Schäden an den Stahlträgern entdeckt worden, als man erwartet habe.",
            "„Die Sicherheit hat für uns oberste Priorität“, sagte Amtsleiter Jürgen Müller.",
            "Die Mehrkosten werden auf rund zwölf Millionen Euro geschätzt.",
        ],
    },
    "ja_typhoon": {
        "title": "台風10号、週末に九州へ接近の見込み",
        "lead": "気象庁は大雨と暴風に警戒するよう呼びかけている。",
        "paragraphs": [
            "気象庁によると、大型の台風10号は勢力を保ったまま北上を続けており、週末には九州南部に接近する見込みだ。",
            "九州では多いところで500ミリを超える大雨が予想されている。",
            "鉄道各社は計画運休を検討しており、航空便にも欠航が出る可能性がある。",
            "気象庁は早めの避難を呼びかけている。",
        ],
    },
}

COMMENT_TEXTS = [
    "This is long overdue. I have lived here for thirty years and nothing has changed until now.",
    "Who is going to pay for all of this? Not the people who voted for it, I bet.",
    "Great reporting, thanks for covering this in so much detail.",
    "I was there last week and can confirm the situation is even worse than described.",
    "The numbers in the fourth paragraph do not add up.\nCan someone from the newsroom check them?",
    "Finally some good news.",
    "I disagree with the previous commenter. The plan has been public for years.",
    "Interesting article.\n\nI would like to know more about the environmental impact.",
]
