"""Alphabets, marker letters and function words used by the rule layer.

Everything here is written from grammars and standard orthographies, not
learned from data.
"""

from __future__ import annotations

RU_BASE = frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюя")

# Lower-case letters each Cyrillic language is written with (loan words in
# Russian spelling are part of the Turkic/Mongolic alphabets, as in practice).
CYR_ALPHABETS: dict[str, frozenset[str]] = {
    "ru": RU_BASE,
    "kk": RU_BASE | frozenset("әғқңөұүһі"),
    "ky": RU_BASE | frozenset("ңөү"),
    "tt": RU_BASE | frozenset("әөүҗңһ"),
    "ba": RU_BASE | frozenset("әөүғҡңҙҫһ"),
    "sah": RU_BASE | frozenset("ҕҥөүһ"),
    "bxr": RU_BASE | frozenset("үөһ"),
    "mn": RU_BASE | frozenset("өү"),
    "uk": (RU_BASE - frozenset("ёъыэ")) | frozenset("іїєґ"),
    "be": (RU_BASE - frozenset("ищъ")) | frozenset("іў"),
    "bg": RU_BASE - frozenset("ёыэ"),
    "mk": (RU_BASE - frozenset("ёыэйщъьюя")) | frozenset("ѓќљњџѕј"),
    "sr": (RU_BASE - frozenset("ёыэйщъьюя")) | frozenset("ђћљњџј"),
}
ALL_CYR_LETTERS = frozenset().union(*CYR_ALPHABETS.values())

# Letters that, among the languages above, belong to one language only.
UNIQUE_MARKERS: dict[str, str] = {
    "ұ": "kk",
    "қ": "kk",
    "ҡ": "ba",
    "ҙ": "ba",
    "ҫ": "ba",
    "җ": "tt",
    "ҕ": "sah",
    "ҥ": "sah",
    "ў": "be",
    "ї": "uk",
    "є": "uk",
    "ґ": "uk",
    "ѓ": "mk",
    "ќ": "mk",
    "ѕ": "mk",
    "ђ": "sr",
    "ћ": "sr",
}
# Kazakh letters at least one of which almost every Kazakh sentence holds.
KK_FREQUENT = frozenset("әғқұі")
KK_LETTERS = frozenset("әғқңөұүһі")

# Yakut long-vowel diphthongs, absent from the other languages here.
SAH_DIPHTHONGS = ("иэ", "ыа", "уо", "үө")

# Very frequent function words (lower case).  Used as soft evidence.
FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "kk": frozenset(
        "және мен бұл осы деп үшін бар жоқ емес еді болып болды бойынша "
        "туралы қазір енді тағы өз оның олар біз сіз ол да де та те ма ме "
        "ба бе па пе ғана қана бірақ кейін дейін сияқты әр барлық бір "
        "мұнда сол сондай неге қалай қашан кім не".split()
    ),
    "ru": frozenset(
        "и в не на что с по это как к а но он она они я из за от у же то "
        "так для был была было были все всё его её их мы вы ты бы ли "
        "только уже или если когда чтобы который которые также при о об "
        "до после над под без через ещё еще там тут здесь очень может "
        "есть нет да мне меня него себя этот эта эти того этого ну вот "
        "сказал говорит тоже где почему потому сейчас году года лет будет "
        "можно нужно надо которая которое которых своей своих является "
        "однако более всего время человек".split()
    ),
    "ky": frozenset(
        "жана менен бул ошол деп үчүн бар жок эмес эле болуп болгон "
        "боюнча тууралуу азыр дагы өз анын алар биз сиз ал да де "
        "гана бирок кийин чейин сыяктуу ар бардык бир кантип качан ким эмне "
        "мен сен жөнүндө деле го экен ошондой мындай бирок ушул үчүн тарабынан "
        "кылып кылган керек эч".split()
    ),
    "tt": frozenset(
        "һәм белән бу шул дип өчен бар юк түгел иде булып булды "
        "буенча турында хәзер тагын үз аның алар без сез ул да дә та тә "
        "белән һәм иде идем икән"
        "гына генә ләкин соң кадәр кебек һәр барлык бер ничек кайчан кем нәрсә "
        "янә инде".split()
    ),
    "ba": frozenset(
        "һәм менән был шул тип өсөн бар юҡ түгел ине булып булды "
        "буйынса тураһында хәҙер тағы үҙ уның улар беҙ һеҙ ул да дә та тә "
        "ғына генә ләкин һуң тиклем кеүек һәр бөтә бер нисек ҡасан кем нимә".split()
    ),
    "sah": frozenset(
        "уонна бу ол диэн буолар баар суох этэ кини кинилэр биһиги эһиги "
        "мин эн хайдах хаһан ким тугу туһунан эмиэ өссө биир барыта "
        "буолла буолан".split()
    ),
    "bxr": frozenset(
        "ба болон юм гэжэ гэһэн энэ тэрэ бидэ би ши тэдэ манай танай "
        "байна байгаа бэшэ үгы һүүлээр тухай зураг нэгэ олон юу хэн "
        "хэзээ яагаад гэхэ болоно".split()
    ),
    "mn": frozenset(
        "ба болон юм гэж энэ тэр бид би чи тэд манай танай байна байгаа "
        "биш үгүй сүүлд тухай нэг олон юу хэн хэзээ яагаад гэх болно".split()
    ),
    "uk": frozenset(
        "і й та в у не на що з із по це як до а але він вона вони я від за "
        "же так для був була було були всі його її їх ми ви ти б чи "
        "тільки вже або якщо коли щоб який які також при про після над під "
        "без через ще там тут дуже може є немає дякую також але "
        "зараз тому треба".split()
    ),
    "be": frozenset(
        "і й ды у в не на што з па гэта як да а але ён яна яны я ад за "
        "жа так для быў была было былі усе ўсе яго яе іх мы вы ты б ці "
        "толькі ўжо або калі каб які якія таксама пры пра пасля над пад "
        "без праз яшчэ там тут вельмі можа ёсць няма".split()
    ),
    "bg": frozenset(
        "и в не на че с по това как към а но той тя те аз от за се са е "
        "бе беше така за всички неговия нейния ние вие ти би ли само вече "
        "или ако когато да който които също при за след над под без през "
        "още там тук много може има няма съм си сме сте ще тази този тези "
        "която което кой коя кое вече моля защото обаче някой нещо".split()
    ),
    "mk": frozenset(
        "и во не на што со по ова како кон а но тој таа тие јас од за се "
        "се е беше така сите негов нејзин ние вие ти би ли само веќе "
        "или ако кога да кој кои исто при по над под без преку уште таму "
        "тука многу може има нема сум си сме сте ќе ги го ја".split()
    ),
}


def exclusive_words() -> dict[str, frozenset[str]]:
    """Function words of each language that no other listed language has."""
    out: dict[str, frozenset[str]] = {}
    for lang, fw in FUNCTION_WORDS.items():
        others: set[str] = set()
        for other, ofw in FUNCTION_WORDS.items():
            if other != lang:
                others |= ofw
        out[lang] = frozenset(fw - others)
    return out


EXCLUSIVE_WORDS = exclusive_words()

# --- Latin script ---------------------------------------------------------
# Kazakh Latin: 2018 acute alphabet (á ǵ ı ń ó ú ý, "sh", "ch"), the 2021
# revision (ä ğ ñ ö ş ū ü ı) and the informal web spelling ("q", "sh", "ch",
# "zh"/"j", "gh", "ng", "y" for ы, "i" for і).
KK_LATN_STRONG = frozenset("áǵńúýūñä")  # hardly ever Turkish/Uzbek/English
TR_MARKERS = frozenset("çşğı")

KK_LATN_WORDS = frozenset(
    # 2018 acute spelling
    "jáne bul osy dep úshin joq emes bolyp boldy boıynsha "
    "týraly qazir endi taǵy óz onyń olar ǵana qana "
    "biraq keıin deıin sıaqty ár barlyq qalaı qashan "
    "qazaqstan qazaqstannyń respýblıkasy prezıdenti halyq eldiń "
    # 2021 umlaut spelling
    "jäne üşin boiynşa turaly tağy öz onyñ ğana keiin deiin siaqty är "
    "barlyq qalai qaşan qazaqstannyñ respublikasy prezidenti eldiñ "
    # informal web spelling
    "jane zhane ushin uchun boyinsha boiynsha turaly qazir endi tagy "
    "onyn gana kein dein siyakty barlyk kalay kashan qazaq kazakh qazaqsha "
    "qalay qanday kazakhstan qazaqstanda qazaqstannyn respublikasynyn "
    "bolady bolatyn degen kerek jaqsy rahmet raqmet salem sälem sálem "
    "qalasy oblysy audany jyly bugin búgin bügin".split()
)
UZ_WORDS = frozenset(
    "va bilan uchun bu ham yoki agar lekin ammo "
    "hamda esa bo'lgan boʻlgan bo‘lgan qilib qildi qilish kerak yilda yil yili "
    "o'z oʻz o‘z necha shu u ular unga uni mumkin bor yo'q yoʻq edi".split()
)
# Uzbek-only among the Latin Turkic spellings handled here.
UZ_EXCLUSIVE_WORDS = UZ_WORDS - frozenset(["edi", "bu"])
TR_WORDS = frozenset(
    "ve bir bu da de ile için çok daha gibi olarak olan ama en ne o "
    "şey kadar sonra ki mi mı değil var yok her ben sen biz siz onlar".split()
)
# English words that no other Latin-script language of the region writes.
EN_STRICT_WORDS = frozenset(
    "the of and to is was that for with you are this have they his she "
    "from were would been their which what when your will there about "
    "just like than them who our could should because into after also".split()
)
EN_WORDS = frozenset(
    "the of and to a in is it that for you was with on as have be at "
    "not this are but they his he she from by or i we an my had there "
    "what all were when your can so if no do will one which their has "
    "would been me our them who its about out up more than just like".split()
)

# Latin -> Kazakh Cyrillic, for re-reading Kazakh typed in Latin letters.
KK_LATN_DIGRAPHS: tuple[tuple[str, str], ...] = (
    ("sh", "ш"),
    ("ch", "ч"),
    ("zh", "ж"),
    ("gh", "ғ"),
    ("kh", "х"),
    ("ng", "ң"),
    ("ya", "я"),
    ("yu", "ю"),
    ("ia", "ия"),
    ("ıa", "ия"),
)
KK_LATN_LETTERS: dict[str, str] = {
    "a": "а",
    "á": "ә",
    "ä": "ә",
    "b": "б",
    "c": "ц",
    "d": "д",
    "e": "е",
    "f": "ф",
    "g": "г",
    "ǵ": "ғ",
    "ğ": "ғ",
    "h": "х",
    "ı": "ы",
    "i": "і",
    "í": "и",
    "j": "ж",
    "k": "к",
    "l": "л",
    "m": "м",
    "n": "н",
    "ń": "ң",
    "ñ": "ң",
    "o": "о",
    "ó": "ө",
    "ö": "ө",
    "p": "п",
    "q": "қ",
    "r": "р",
    "s": "с",
    "ş": "ш",
    "ç": "ч",
    "t": "т",
    "u": "у",
    "ū": "ұ",
    "ú": "ү",
    "ü": "ү",
    "v": "в",
    "w": "у",
    "x": "х",
    "y": "ы",
    "ý": "у",
    "z": "з",
}
